/**
 * VvpDeploy@1 with `sqlScriptFile`, end to end: the bundled task run as the agent runs it, through
 * the rig's Entra ID and Key Vault fakes, against the VVP simulator in its own process (its SQL
 * service and SQLSCRIPT jobs): a valid deploy, an invalid script annotated at its line and column
 * without any write, a plan with the script's line diff, a job Flink cannot start, and the
 * rollback to the previous script.
 */
import assert from 'node:assert/strict';
import { PREVIOUS_SCRIPT } from './scripts';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { RIG_DEFAULTS as D } from '../rig/config';
import { explain, requireSim, runBundled, scanBench, startBench, type Bench } from '../reliability/bench';
import type { RunTaskOptions } from '../rig/run-task';

let bench: Bench;
let counter = 0;
const unique = (stem: string): string => `sql-${stem}-${++counter}`;

const SCRIPT_PATH = 'flink/sql/orders.sql';

/** What runs before the step. */
const PREVIOUS = PREVIOUS_SCRIPT;

const NEXT = [
  '-- orders, upper-cased',
  "CREATE TEMPORARY TABLE src (s VARCHAR) WITH ('connector' = 'datagen');",
  "CREATE TEMPORARY TABLE snk (s VARCHAR) WITH ('connector' = 'jdbc', 'password' = 'pr-s3cret-pw');",
  'INSERT INTO snk SELECT UPPER(s) FROM src;',
  '',
].join('\r\n');

const sha256 = (text: string): string => createHash('sha256').update(Buffer.from(text, 'utf8')).digest('hex');

/** VvpDeploy@1 inputs deploying the file at {@link SCRIPT_PATH} to `deployment`. */
function sqlInputs(deployment: string, more: RunTaskOptions['inputs'] = {}): RunTaskOptions['inputs'] {
  return { keyVaultName: D.vaultName, vvpUrl: 'https://vvp.example.com', deployment, sqlScriptFile: SCRIPT_PATH, pollIntervalSeconds: 1, timeoutMinutes: 1, ...more };
}

/** Seeds a RUNNING SQL deployment on `script` (the bench's quick phases); returns its id. */
async function seedSql(name: string, script: string, extra: Record<string, unknown> = {}): Promise<string> {
  const created = await requireSim(bench).control.seedDeployment({ name, sqlScript: script, ...extra } as never);
  return (created as unknown as { metadata: { id: string } }).metadata.id;
}

/** Requests to this deployment that change something (other tests run beside this one). */
async function writesTo(name: string, id: string): Promise<string[]> {
  const requests = await requireSim(bench).control.requests({});
  return requests.filter((r) => r.method !== 'GET' && (r.path.includes(id) || r.path.includes(name) || JSON.stringify(r.body ?? {}).includes(name))).map((r) => `${r.method} ${r.path}`);
}

/** Runs `body` with the simulator's SQL service switched off (VVP validates at job start only). */
async function withoutSqlService<T>(body: () => Promise<T>): Promise<T> {
  const sim = requireSim(bench);
  await sim.control.setConfig({ sqlService: false });
  try {
    return await body();
  } finally {
    await sim.control.setConfig({ sqlService: true });
  }
}

describe('VvpDeploy@1 bundled task: SQL deployments against the VVP simulator', () => {
  before(async () => {
    bench = await startBench();
  });
  after(async () => {
    try {
      await scanBench(bench);
    } finally {
      await bench?.stop();
    }
  });

  it('deploys a SQL script: VVP validates it, the new job runs it exactly, and the outputs carry its SHA-256 and the job', async () => {
    const sim = requireSim(bench);
    const name = unique('deploy');
    const id = await seedSql(name, PREVIOUS);
    const run = await runBundled(bench, 'VvpDeploy', { inputs: sqlInputs(name, { additionalDependencies: 'wasbs://vvp@vvpstorage.blob.core.windows.net/artifacts/namespaces/default/udfs-1a2b3c4.jar' }), files: { [SCRIPT_PATH]: NEXT } });
    assert.equal(run.result, 'Succeeded', explain(run));
    const truth = await sim.control.truth('default', name);
    assert.equal(truth.runningJob?.sqlScript, NEXT);
    assert.equal(run.outputs.sqlScriptSha256, sha256(NEXT));
    assert.equal(run.outputs.jobId, truth.runningJob?.id);
    assert.ok((await sim.control.requests({ method: 'POST', path: 'sqlscripts:validate' })).some((r) => (r.body as { statement?: string }).statement === NEXT));
    const patch = (await sim.control.requests({ method: 'PATCH' })).find((r) => r.path.includes(truth.deploymentId));
    assert.deepEqual((patch?.body as { spec: { template: { spec: { artifact: unknown } } } }).spec.template.spec.artifact, {
      kind: 'SQLSCRIPT',
      sqlScript: NEXT,
      additionalDependencies: ['wasbs://vvp@vvpstorage.blob.core.windows.net/artifacts/namespaces/default/udfs-1a2b3c4.jar'],
    });
    assert.doesNotMatch(run.stdout + run.summaries.join('\n'), /pr-s3cret-pw/);
    // What the other cases count as "no write" sees this one.
    assert.deepEqual((await writesTo(name, id)).filter((w) => w.startsWith('PATCH')).length, 1);
  });

  it('writes nothing for an invalid script and annotates each problem at its line and column in the file', async () => {
    const name = unique('invalid');
    const id = await seedSql(name, PREVIOUS);
    // Line 5: a second INSERT outside a STATEMENT SET, indented by two spaces.
    const script = `${NEXT}  INSERT INTO snk SELECT s FROM src;\r\n`;
    const run = await runBundled(bench, 'VvpDeploy', { inputs: sqlInputs(name), files: { [SCRIPT_PATH]: script } });
    assert.equal(run.result, 'Failed', explain(run));
    assert.deepEqual(await writesTo(name, id), []);
    const annotations = run.stdout.split(/\r?\n/).filter((l) => l.startsWith('##vso[task.logissue type=error;'));
    assert.equal(annotations.length, 1, explain(run));
    assert.match(annotations[0], new RegExp(`^##vso\\[task\\.logissue type=error;sourcepath=${SCRIPT_PATH.replace(/\./g, '\\.')};linenumber=5;columnnumber=3;\\]A second INSERT INTO`));
    assert.match(run.message ?? '', /orders\.sql:5:3: A second INSERT INTO/);
    assert.equal((await requireSim(bench).control.truth('default', name)).runningJob?.sqlScript, PREVIOUS);
  });

  it("annotates VVP's validation error at the file's line and column, and writes nothing", async () => {
    const name = unique('vvp-invalid');
    const id = await seedSql(name, PREVIOUS);
    // A BOM and CRLF line endings: the column counts neither.
    const script = NEXT.replace('INSERT INTO snk', 'INSERT INTO sink');
    const run = await runBundled(bench, 'VvpDeploy', { inputs: sqlInputs(name), files: { [SCRIPT_PATH]: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(script)]) } });
    assert.equal(run.result, 'Failed', explain(run));
    assert.deepEqual(await writesTo(name, id), []);
    const annotation = run.stdout.split(/\r?\n/).find((l) => l.startsWith('##vso[task.logissue type=error;'));
    assert.match(annotation ?? '', new RegExp(`^##vso\\[task\\.logissue type=error;sourcepath=${SCRIPT_PATH.replace(/\./g, '\\.')};linenumber=4;columnnumber=13;\\]VVP: .*Object 'sink' not found`), explain(run));
  });

  it('plans a SQL change as a line diff of the script with the password masked, and writes nothing', async () => {
    const name = unique('plan');
    const id = await seedSql(name, PREVIOUS);
    const run = await runBundled(bench, 'VvpDeploy', { inputs: sqlInputs(name, { action: 'plan' }), files: { [SCRIPT_PATH]: NEXT } });
    assert.equal(run.result, 'Succeeded', explain(run));
    assert.deepEqual(await writesTo(name, id), []);
    assert.match(run.stdout, /~ spec\.template\.spec\.artifact\.sqlScript: \(line diff\)/);
    assert.match(run.stdout, /\n {6}-INSERT INTO snk SELECT s FROM src;\r?\n/);
    assert.match(run.stdout, /\n {6}\+INSERT INTO snk SELECT UPPER\(s\) FROM src;\r?\n/);
    assert.match(run.stdout, /\+CREATE TEMPORARY TABLE snk \(s VARCHAR\) WITH \('connector' = 'jdbc', 'password' = '\*\*\*'\);/);
    assert.doesNotMatch(run.stdout + run.summaries.join('\n') + (run.message ?? ''), /pr-s3cret-pw/);
    assert.equal(run.outputs.restartRequired, 'true');
    assert.equal(run.outputs.sqlScriptSha256, sha256(NEXT));
    assert.ok(Number(run.outputs.planChanges) >= 1);
  });

  it("fails the step with Flink's message when the job cannot start the script", async () => {
    const name = unique('fails');
    await seedSql(name, PREVIOUS, { spec: { maxJobCreationAttempts: 1 } });
    const run = await withoutSqlService(() => runBundled(bench, 'VvpDeploy', { inputs: sqlInputs(name), files: { [SCRIPT_PATH]: NEXT.replace('INSERT INTO snk', 'INSERT INTO sink') } }));
    assert.equal(run.result, 'Failed', explain(run));
    assert.match(run.stdout, /VVP has no SQL validation service \(404/);
    assert.match(run.message ?? '', /org\.apache\.flink\.table\.api\.ValidationException: SQL validation failed\. From line 4, column 13 .*Object 'sink' not found/);
    assert.equal(run.outputs.rolledBack, 'false');
  });

  it('rolls back to the previous script exactly when the new one cannot start', async () => {
    const sim = requireSim(bench);
    const name = unique('rollback');
    const previous = PREVIOUS.replace(/\n/g, '\r\n');
    await seedSql(name, previous, { spec: { maxJobCreationAttempts: 1 } });
    const run = await withoutSqlService(() =>
      runBundled(bench, 'VvpDeploy', { inputs: sqlInputs(name, { rollbackOnFailure: true }), files: { [SCRIPT_PATH]: NEXT.replace('INSERT INTO snk', 'INSERT INTO sink') } }),
    );
    assert.equal(run.result, 'Failed', explain(run));
    assert.match(run.message ?? '', /Object 'sink' not found/);
    assert.match(run.message ?? '', /Rolled back/);
    assert.equal(run.outputs.rolledBack, 'true');
    const truth = await sim.control.truth('default', name);
    assert.equal(truth.runningJob?.sqlScript, previous);
    assert.equal(truth.specSqlScript, previous);
    assert.equal(run.outputs.jobId, truth.runningJob?.id);
    const put = (await sim.control.requests({ method: 'PUT' })).find((r) => r.path.includes(truth.deploymentId));
    assert.equal((put?.body as { spec: { template: { spec: { artifact: { sqlScript: string } } } } }).spec.template.spec.artifact.sqlScript, previous);
  });
});
