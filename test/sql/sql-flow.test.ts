/**
 * SQL deployments through the whole VvpDeploy flow on the in-memory VVP and virtual time: the
 * script checked before any write (offline shape, then VVP's validation, positions in the file),
 * the PATCH of kind SQLSCRIPT, success only once a new job runs the very script, up to date, the
 * JAR ↔ SQL refusal, a script Flink rejects at job start and the rollback to the previous script,
 * and the plan's line diff with credentials masked.
 */
import assert from 'node:assert/strict';
import { PREVIOUS_SCRIPT } from './scripts';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { LineIndex } from '../../tasks/common/sql/positions';
import { readSqlScriptInput } from '../../tasks/common/sql/script-input';
import type { DeployArtifact } from '../../tasks/common/vvp/artifact';
import { DeploymentFailedError } from '../../tasks/common/vvp/errors';
import type { JsonObject } from '../../tasks/common/vvp/resources';
import { runAction } from '../../tasks/VvpDeploy/VvpDeployV1/action';
import type { DeployResult } from '../../tasks/VvpDeploy/VvpDeployV1/deploy-result';
import type { DeployConfig } from '../../tasks/VvpDeploy/VvpDeployV1/inputs';
import { runPlan } from '../../tasks/VvpDeploy/VvpDeployV1/plan';
import { deployOutputs, renderSummary } from '../../tasks/VvpDeploy/VvpDeployV1/summary';
import { deployConfig } from '../deploy/deploy-config';
import { InMemoryVvp } from '../support/in-memory-vvp';
import { MemoryLogger } from '../support/memory-logger';

const NAME = 'orders-enrichment';
const FILE = '/repo/sql/orders.sql';
const UDF_JAR = 'wasbs://vvp@vvpstorage.blob.core.windows.net/artifacts/namespaces/default/udfs-1a2b3c4.jar';
const JAR = 'wasbs://vvp@vvpstorage.blob.core.windows.net/artifacts/namespaces/default/top-speed-windowing-0000000.jar?commit=0000000';

/** What runs before the step. */
const PREVIOUS = PREVIOUS_SCRIPT;

/** The new script: CRLF line endings and a comment, which must reach VVP as they are. */
const NEXT = [
  '-- orders, upper-cased',
  "CREATE TEMPORARY TABLE src (s VARCHAR) WITH ('connector' = 'datagen');",
  "CREATE TEMPORARY TABLE snk (s VARCHAR) WITH ('connector' = 'print');",
  'INSERT INTO snk SELECT UPPER(s) FROM src;',
  '',
].join('\r\n');

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** The artifact the input layer makes of a file's bytes (BOM removed, line endings kept). */
function sqlArtifact(content: string | Buffer, additionalDependencies: string[] = []): DeployArtifact {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  const read = readSqlScriptInput('sql/orders.sql', '/repo', { readFile: () => bytes, isDirectory: () => false });
  if (!('file' in read)) throw new Error(read.expected);
  return { kind: 'SQLSCRIPT', sqlScript: read.file.script, sha256: read.file.sha256, file: read.file.file, additionalDependencies };
}

interface Run {
  result: DeployResult;
  lines: string[];
  outputs: Record<string, string>;
  summary: string;
}

async function run(vvp: InMemoryVvp | undefined, artifact: DeployArtifact, overrides: Partial<DeployConfig> = {}): Promise<Run> {
  const logger = new MemoryLogger();
  const config = deployConfig({ deployment: NAME, jarUri: artifact.kind === 'JAR' ? artifact.jarUri : '', vvpUrl: new URL('https://vvp.example.com'), artifact, ...overrides });
  const clock = vvp?.clock ?? new InMemoryVvp().clock;
  const result = vvp ? await runAction(config, { vvp, clock, logger, registerSecret: () => undefined }) : await runPlan(config, { clock, logger });
  const outputs = Object.fromEntries(Object.entries(deployOutputs(result)).map(([k, v]) => [k, v.value]));
  return { result, lines: logger.lines, outputs, summary: renderSummary(result, 'https://vvp.example.com') };
}

function seeded(seed: Partial<Parameters<InMemoryVvp['seedDeployment']>[0]> = {}): InMemoryVvp {
  const vvp = new InMemoryVvp();
  if (seed.jarUri === undefined) vvp.seedDeployment({ name: NAME, sqlScript: PREVIOUS, ...seed });
  else vvp.seedDeployment({ name: NAME, ...seed });
  return vvp;
}

/** Requests that change something in VVP (validation is a read). */
function writes(vvp: InMemoryVvp): string[] {
  return vvp
    .requests({})
    .filter((r) => ['PATCH', 'POST', 'PUT', 'DELETE'].includes(r.method) && !r.path.includes('sqlscripts:validate'))
    .map((r) => `${r.method} ${r.path}`);
}

/** The 1-based line and column of the first `needle` at or after the `nth` occurrence in `text`. */
function positionIn(text: string, needle: string, nth = 1): { line: number; column: number } {
  let at = -1;
  for (let i = 0; i < nth; i++) at = text.indexOf(needle, at + 1);
  assert.ok(at >= 0, `${needle} is in the script`);
  return new LineIndex(text).positionOf(at);
}

const artifactOfBody = (body: unknown): Record<string, unknown> => (body as { spec: { template: { spec: { artifact: Record<string, unknown> } } } }).spec.template.spec.artifact;

describe('SQL deploy flow (in-memory VVP, virtual time)', () => {
  it('PATCHes kind SQLSCRIPT with the exact script (no BOM, CRLF kept) and the dependencies, and succeeds once a new job runs that script', async () => {
    const vvp = seeded();
    const before = vvp.truth('default', NAME).runningJob?.id;
    const artifact = sqlArtifact(Buffer.concat([BOM, Buffer.from(NEXT, 'utf8')]), [UDF_JAR]);
    const r = await run(vvp, artifact);
    assert.equal(r.result.outcome, 'succeeded', r.result.message);
    const patches = vvp.requests({ method: 'PATCH' });
    assert.equal(patches.length, 1);
    assert.deepEqual(artifactOfBody(patches[0].body), { kind: 'SQLSCRIPT', sqlScript: NEXT, additionalDependencies: [UDF_JAR] });
    assert.ok(!String(artifactOfBody(patches[0].body).sqlScript).startsWith('\uFEFF'), 'no BOM sent');
    const truth = vvp.truth('default', NAME);
    assert.notEqual(truth.runningJob?.id, before, 'a new job');
    assert.equal(truth.runningJob?.sqlScript, NEXT);
    assert.equal(r.outputs.jobId, truth.runningJob?.id);
    const sha = createHash('sha256').update(Buffer.from(NEXT, 'utf8')).digest('hex');
    assert.equal(r.outputs.sqlScriptSha256, sha);
    assert.match(r.summary, new RegExp(`New SQL script \\| sha256 \`${sha}\``));
  });

  it('sends the script to VVP for validation before the PATCH, with the catalog and database inputs', async () => {
    const vvp = seeded();
    await run(vvp, sqlArtifact(NEXT), { sqlCatalog: 'vvp', sqlDatabase: 'orders' });
    const calls = vvp.requests({}).filter((r) => r.method !== 'GET');
    assert.equal(calls[0].path, '/sql/v1beta1/namespaces/default/sqlscripts:validate');
    assert.deepEqual(calls[0].query, { catalog: 'vvp', database: 'orders' });
    assert.deepEqual(calls[0].body, { statement: NEXT });
    assert.equal(calls[1].method, 'PATCH');
  });

  it('does not take the old job, still STARTED on the previous script after the PATCH, for the new one', async () => {
    const vvp = seeded({ behaviour: { staleRunningMs: 20_000 } });
    const start = vvp.clock.now();
    const r = await run(vvp, sqlArtifact(NEXT));
    assert.equal(r.result.outcome, 'succeeded', r.result.message);
    assert.ok(vvp.clock.now() - start >= 20_000, 'no verdict inside the stale window');
    assert.equal(vvp.truth('default', NAME).runningJob?.sqlScript, NEXT);
  });

  it('blocks two INSERTs outside a STATEMENT SET offline: no write, no VVP validation, the second INSERT at its line and column in the file', async () => {
    const vvp = seeded();
    const script = `${NEXT}  INSERT INTO snk SELECT s FROM src;\r\n`;
    const r = await run(vvp, sqlArtifact(script));
    assert.equal(r.result.outcome, 'blocked', r.result.message);
    assert.ok(r.result.error instanceof DeploymentFailedError && r.result.error.kind === 'blocked');
    assert.deepEqual(writes(vvp), []);
    assert.equal(vvp.requests({ path: 'sqlscripts:validate' }).length, 0, 'VVP is not asked about a script of the wrong shape');
    assert.equal(r.result.sqlProblems?.file, FILE);
    assert.deepEqual(
      r.result.sqlProblems?.problems.map((p) => p.position),
      [{ line: 5, column: 3 }],
    );
    assert.match(r.result.sqlProblems?.problems[0].message ?? '', /A second INSERT INTO/);
    assert.match(r.result.message, /orders\.sql:5:3: A second INSERT INTO/);
  });

  it('blocks a script without an INSERT offline with a problem about the whole file (no position)', async () => {
    const vvp = seeded();
    const r = await run(vvp, sqlArtifact("CREATE TEMPORARY TABLE src (s VARCHAR) WITH ('connector' = 'datagen');\n"));
    assert.equal(r.result.outcome, 'blocked', r.result.message);
    assert.deepEqual(writes(vvp), []);
    const problems = r.result.sqlProblems?.problems ?? [];
    assert.equal(problems.length, 1);
    assert.equal(problems[0].position, undefined);
    assert.match(problems[0].message, /no INSERT INTO/);
  });

  it("writes nothing when VVP answers INVALID_QUERY, and puts VVP's error at its place in the file", async () => {
    const vvp = seeded();
    const script = NEXT.replace('INSERT INTO snk', 'INSERT INTO sink');
    const r = await run(vvp, sqlArtifact(Buffer.concat([BOM, Buffer.from(script, 'utf8')])));
    assert.equal(r.result.outcome, 'blocked', r.result.message);
    assert.deepEqual(writes(vvp), []);
    assert.equal(vvp.requests({ method: 'GET' }).length, 0, 'not even a read of the deployment');
    const [problem, ...more] = r.result.sqlProblems?.problems ?? [];
    assert.equal(more.length, 0);
    assert.match(problem.message, /^VVP: .*Object 'sink' not found \[VALIDATION_RESULT_INVALID_QUERY\]$/);
    const at = positionIn(script, 'sink');
    assert.deepEqual(problem.position, at);
    assert.deepEqual(problem.endPosition, { line: at.line, column: at.column + 3 });
  });

  it('reports an error VVP gives with line and column 0 as a problem of the file without a position', async () => {
    const vvp = seeded();
    const script = NEXT.replace("CREATE TEMPORARY TABLE snk (s VARCHAR) WITH ('connector' = 'print');", "CREATE TEMPORARY TABLE src (s VARCHAR) WITH ('connector' = 'print');");
    const r = await run(vvp, sqlArtifact(script));
    assert.equal(r.result.outcome, 'blocked', r.result.message);
    assert.deepEqual(writes(vvp), []);
    const [problem] = r.result.sqlProblems?.problems ?? [];
    assert.match(problem.message, /Temporary table `vvp`\.`default`\.`src` already exists\..*VVP gives no line/);
    assert.equal(problem.position, undefined);
    assert.doesNotMatch(r.result.message, /orders\.sql:0/);
  });

  it('goes on with a warning when VVP has no SQL service (404), and the new job runs the script', async () => {
    const vvp = seeded();
    vvp.setConfig({ sqlService: false });
    const r = await run(vvp, sqlArtifact(NEXT));
    assert.equal(r.result.outcome, 'succeeded', r.result.message);
    assert.ok(r.lines.some((l) => /^warning: VVP has no SQL validation service \(404 .*orders\.sql passed the offline check only/.test(l)), r.lines.join('\n'));
    assert.equal(vvp.truth('default', NAME).runningJob?.sqlScript, NEXT);
  });

  it('validates statement by statement, with a warning, when VVP does not take a script of several statements, and deploys a valid one', async () => {
    const vvp = seeded();
    vvp.setConfig({ sqlValidation: 'statement' });
    const r = await run(vvp, sqlArtifact(NEXT));
    assert.equal(r.result.outcome, 'succeeded', r.result.message);
    assert.ok(r.lines.some((l) => /^warning: VVP does not validate a script of several statements as a whole/.test(l)), r.lines.join('\n'));
    assert.ok(vvp.requests({ path: 'sqlscripts:validate' }).length > 1, 'more than one validation request');
    assert.equal(vvp.truth('default', NAME).runningJob?.sqlScript, NEXT);
  });

  it('is up to date, with no write, when the same script and dependencies run already; other dependencies are a change', async () => {
    const vvp = seeded();
    const first = await run(vvp, sqlArtifact(NEXT, [UDF_JAR]));
    assert.equal(first.result.outcome, 'succeeded', first.result.message);
    vvp.clearRequests();
    const again = await run(vvp, sqlArtifact(NEXT, [UDF_JAR]));
    assert.equal(again.result.outcome, 'upToDate', again.result.message);
    assert.deepEqual(writes(vvp), []);
    assert.deepEqual([again.outputs.planChanges, again.outputs.restartRequired], ['0', 'false']);
    assert.equal(again.outputs.sqlScriptSha256, createHash('sha256').update(NEXT).digest('hex'));

    const otherDependency = await run(vvp, sqlArtifact(NEXT, [UDF_JAR.replace('1a2b3c4', '5d6e7f8')]));
    assert.equal(otherDependency.result.outcome, 'succeeded', otherDependency.result.message);
    assert.equal(writes(vvp).length, 1);
  });

  it('is up to date for a deployment made in VVP without dependencies, and a plan counts no empty list as a change', async () => {
    // A deployment written in VVP's editor has no additionalDependencies: the empty list a step without dependencies sends is no change.
    const vvp = seeded({ sqlScript: NEXT });
    const again = await run(vvp, sqlArtifact(NEXT));
    assert.equal(again.result.outcome, 'upToDate', again.result.message);
    assert.deepEqual(writes(vvp), []);
    const plan = await run(vvp, sqlArtifact(NEXT), { action: 'plan', online: true });
    assert.equal(plan.outputs.planChanges, '0', plan.lines.join('\n'));
    assert.doesNotMatch(plan.lines.join('\n'), /additionalDependencies/);
  });

  it('removes the last dependency of a SQL deployment with an empty list (a merge PATCH would keep the old one)', async () => {
    const vvp = seeded();
    assert.equal((await run(vvp, sqlArtifact(NEXT, [UDF_JAR]))).result.outcome, 'succeeded');
    vvp.clearRequests();
    const without = await run(vvp, sqlArtifact(NEXT));
    assert.equal(without.result.outcome, 'succeeded', without.result.message);
    const patch = vvp.requests({ method: 'PATCH' }).at(-1);
    assert.deepEqual(artifactOfBody(patch?.body).additionalDependencies, []);
  });

  it('is a change when only the line endings differ', async () => {
    const vvp = seeded({ sqlScript: NEXT.replace(/\r\n/g, '\n') });
    const r = await run(vvp, sqlArtifact(NEXT));
    assert.equal(r.result.outcome, 'succeeded', r.result.message);
    assert.equal(vvp.requests({ method: 'PATCH' }).length, 1);
    assert.equal(vvp.truth('default', NAME).runningJob?.sqlScript, NEXT);
  });

  it('refuses a SQL script for a JAR deployment before any write, saying why', async () => {
    const vvp = seeded({ jarUri: JAR });
    const r = await run(vvp, sqlArtifact(NEXT));
    assert.equal(r.result.outcome, 'blocked', r.result.message);
    assert.deepEqual(writes(vvp), []);
    assert.match(r.result.message, /The deployment is a JAR deployment \(artifact kind JAR\) and this step deploys a SQL script \(kind SQLSCRIPT\)\. The step does not switch an artifact's kind/);
    assert.equal(vvp.truth('default', NAME).runningJob?.jarUri, JAR);
  });

  it('refuses a JAR for a SQL deployment before any write, saying why', async () => {
    const vvp = seeded();
    const newJar = JAR.replace(/0000000/g, 'abc1234');
    const r = await run(vvp, { kind: 'JAR', jarUri: newJar, additionalDependencies: [] });
    assert.equal(r.result.outcome, 'blocked', r.result.message);
    assert.deepEqual(writes(vvp), []);
    assert.match(r.result.message, /The deployment is a SQL deployment \(artifact kind SQLSCRIPT\) and this step deploys a JAR \(kind JAR\)\. .*would keep sqlScript/);
    assert.equal(vvp.truth('default', NAME).runningJob?.sqlScript, PREVIOUS);
  });

  it("fails with Flink's message when the job cannot run the script (VVP validates at job start only)", async () => {
    const vvp = seeded({ spec: { maxJobCreationAttempts: 1 } });
    vvp.setConfig({ sqlService: false });
    const script = NEXT.replace('INSERT INTO snk', 'INSERT INTO sink');
    const r = await run(vvp, sqlArtifact(script));
    assert.equal(r.result.outcome, 'failed', r.result.message);
    const at = positionIn(script, 'sink');
    assert.ok(r.result.message.includes(`org.apache.flink.table.api.ValidationException: SQL validation failed. From line ${at.line}, column ${at.column}`), r.result.message);
    assert.match(r.result.message, /Object 'sink' not found/);
    assert.equal(r.result.rolledBack, false);
  });

  it('rolls back to the previous script exactly when the new one fails at job start, and the rolled-back job runs it', async () => {
    const previous = `${PREVIOUS.replace(/\n/g, '\r\n')}   -- trailing comment, no newline`;
    const vvp = seeded({ sqlScript: previous, spec: { maxJobCreationAttempts: 1, template: { spec: { artifact: { additionalDependencies: [UDF_JAR] } } } } });
    vvp.setConfig({ sqlService: false });
    const r = await run(vvp, sqlArtifact(NEXT.replace('INSERT INTO snk', 'INSERT INTO sink')), { rollbackOnFailure: true });
    assert.equal(r.result.outcome, 'failed', r.result.message);
    assert.match(r.result.message, /Object 'sink' not found/);
    assert.equal(r.result.rolledBack, true, r.result.message);
    const puts = vvp.requests({ method: 'PUT' });
    assert.ok(puts.length > 0, 'the rollback PUTs the previous deployment');
    const restored = artifactOfBody(puts[0].body);
    assert.equal(restored.kind, 'SQLSCRIPT');
    assert.equal(restored.sqlScript, previous);
    assert.deepEqual(restored.additionalDependencies, [UDF_JAR]);
    const truth = vvp.truth('default', NAME);
    assert.equal(truth.runningJob?.sqlScript, previous);
    assert.equal(r.outputs.rolledBack, 'true');
    assert.equal(r.outputs.jobId, truth.runningJob?.id);
  });
});

describe('SQL deployments: create, spec file, lifecycle', () => {
  it('creates a missing SQL deployment from the spec file with kind SQLSCRIPT and the script, and waits for it to run', async () => {
    const vvp = new InMemoryVvp();
    const document = { kind: 'Deployment', spec: { template: { spec: { parallelism: 2, artifact: { kind: 'SQLSCRIPT' } } } } } as unknown as JsonObject;
    const r = await run(vvp, sqlArtifact(NEXT, [UDF_JAR]), { specFile: { path: 'vvp/deployment.yaml', document } });
    assert.equal(r.result.outcome, 'succeeded', r.result.message);
    assert.equal(r.result.created, true);
    const [post] = vvp.requests({ method: 'POST' }).filter((q) => q.path.endsWith('/deployments'));
    assert.deepEqual(artifactOfBody(post.body), { kind: 'SQLSCRIPT', sqlScript: NEXT, additionalDependencies: [UDF_JAR] });
    assert.equal(vvp.truth('default', NAME).runningJob?.sqlScript, NEXT);
    assert.equal(r.outputs.sqlScriptSha256, createHash('sha256').update(NEXT).digest('hex'));
  });

  it('PATCHes the spec file fields with the script in one write', async () => {
    const vvp = seeded();
    const document = { kind: 'Deployment', spec: { template: { spec: { parallelism: 3 } } } } as unknown as JsonObject;
    const r = await run(vvp, sqlArtifact(NEXT), { specFile: { path: 'vvp/deployment.yaml', document } });
    assert.equal(r.result.outcome, 'succeeded', r.result.message);
    const patches = vvp.requests({ method: 'PATCH' });
    assert.equal(patches.length, 1);
    const spec = (patches[0].body as { spec: { template: { spec: { parallelism: number } } } }).spec.template.spec;
    assert.equal(spec.parallelism, 3);
    assert.equal(artifactOfBody(patches[0].body).sqlScript, NEXT);
  });

  it('suspends a SQL deployment and resumes it on the same script', async () => {
    const vvp = seeded();
    const jarless: DeployArtifact = { kind: 'JAR', jarUri: '', additionalDependencies: [] };
    const suspended = await run(vvp, jarless, { action: 'suspend' });
    assert.equal(suspended.result.outcome, 'succeeded', suspended.result.message);
    assert.equal(vvp.truth('default', NAME).statusState, 'SUSPENDED');
    const resumed = await run(vvp, jarless, { action: 'resume' });
    assert.equal(resumed.result.outcome, 'succeeded', resumed.result.message);
    const truth = vvp.truth('default', NAME);
    assert.equal(truth.runningJob?.sqlScript, PREVIOUS);
    assert.equal(resumed.outputs.jobId, truth.runningJob?.id);
    assert.equal(resumed.outputs.restoredFrom, suspended.outputs.savepointLocation);
  });
});

describe('SQL deployments: health check and concurrent changes', () => {
  it('rolls a crash-looping SQL job back to the previous script, started from the upgrade savepoint', async () => {
    const vvp = seeded({ behaviour: { outcomeQueue: ['crashLoops'], restartIntervalMs: 10_000 } });
    const oldJob = vvp.truth('default', NAME).runningJob?.id;
    const r = await run(vvp, sqlArtifact(NEXT), { healthCheckInMs: 5 * 60_000, rollbackOnFailure: true });
    assert.ok(r.result.error instanceof DeploymentFailedError && r.result.error.kind === 'health', r.result.message);
    assert.equal(r.result.rolledBack, true, r.result.message);
    const truth = vvp.truth('default', NAME);
    const upgrade = truth.savepoints.find((sp) => sp.jobId === oldJob && sp.origin !== 'COPIED');
    assert.ok(upgrade, 'VVP took an upgrade savepoint');
    assert.equal(truth.runningJob?.sqlScript, PREVIOUS);
    assert.equal(truth.runningJob?.savepointLocation, upgrade.savepointLocation);
    assert.equal(r.outputs.sqlScriptSha256, createHash('sha256').update(NEXT).digest('hex'), 'the output names the script the step deployed');
  });

  it("fails without claiming success when someone else replaces the script during the wait, and leaves that script alone", async () => {
    const vvp = seeded({ behaviour: { outcomeQueue: ['stuck'] } });
    const theirs = PREVIOUS.replace('SELECT s', 'SELECT LOWER(s)');
    vvp.clock.setTimer(() => void vvp.patchDeployment('default', NAME, { spec: { template: { spec: { artifact: { kind: 'SQLSCRIPT', sqlScript: theirs } } } } }), 30_000);
    const r = await run(vvp, sqlArtifact(NEXT), { rollbackOnFailure: true, timeoutInMs: 5 * 60_000 });
    assert.notEqual(r.result.outcome, 'succeeded', r.result.message);
    const sha = createHash('sha256').update(theirs).digest('hex').slice(0, 12);
    assert.match(r.result.message, new RegExp(`the deployment's SQL script was changed to SQL script \\(sha256 ${sha}\\) during the wait`));
    assert.match(r.result.message, /Not rolled back: the deployment was changed after this step wrote it .*spec\.template\.spec\.artifact\.sqlScript/);
    assert.ok(!r.result.message.includes('LOWER(s)'), 'the message names a script by its hash, never by its text');
    assert.equal(vvp.requests({ method: 'PUT' }).length, 0, 'no rollback over their change');
    assert.equal(vvp.truth('default', NAME).specSqlScript, theirs);
  });
});

describe('SQL plan', () => {
  const OLD_WITH_SECRET = PREVIOUS.replace("'connector' = 'print'", "'connector' = 'jdbc', 'password' = 'old-s3cret-pw'");
  const NEW_WITH_SECRET = NEXT.replace("'connector' = 'print'", "'connector' = 'jdbc', 'password' = 'new-s3cret-pw'");

  it('shows the script change as a line diff with sensitive WITH values masked everywhere, and writes nothing', async () => {
    const vvp = seeded({ sqlScript: OLD_WITH_SECRET });
    const r = await run(vvp, sqlArtifact(NEW_WITH_SECRET), { action: 'plan' });
    assert.equal(r.result.outcome, 'planned', r.result.message);
    assert.deepEqual(writes(vvp), []);
    const text = [...r.lines, r.result.planMarkdown ?? '', r.result.message, r.summary, ...Object.values(r.outputs)].join('\n');
    assert.doesNotMatch(text, /s3cret/, 'no password from the live deployment or the file');
    assert.ok(r.lines.some((l) => /\.sqlScript: \(line diff\)/.test(l)), r.lines.join('\n'));
    assert.ok(r.lines.includes('      -INSERT INTO snk SELECT s FROM src;'), r.lines.join('\n'));
    assert.ok(r.lines.includes('      +INSERT INTO snk SELECT UPPER(s) FROM src;'), r.lines.join('\n'));
    assert.ok(r.lines.includes('      +-- orders, upper-cased'), r.lines.join('\n'));
    assert.ok(r.lines.includes("       CREATE TEMPORARY TABLE snk (s VARCHAR) WITH ('connector' = 'jdbc', 'password' = '***');"), r.lines.join('\n'));
    assert.match(r.result.planMarkdown ?? '', /\n {4}\+INSERT INTO snk SELECT UPPER\(s\) FROM src;\n/);
    assert.match(r.result.planMarkdown ?? '', /'password' = '\*\*\*'/);
    assert.equal(r.result.restartRequired, true);
    assert.ok((r.result.planChanges ?? 0) >= 1);
    assert.equal(r.outputs.sqlScriptSha256, createHash('sha256').update(NEW_WITH_SECRET).digest('hex'));
  });

  it('says what changed when the script differs only in a masked value or in its line endings', async () => {
    const onlySecret = await run(seeded({ sqlScript: OLD_WITH_SECRET }), sqlArtifact(OLD_WITH_SECRET.replace('old-s3cret-pw', 'new-s3cret-pw')), { action: 'plan' });
    assert.equal(onlySecret.result.outcome, 'planned', onlySecret.result.message);
    const secretAt = onlySecret.lines.findIndex((l) => /\.sqlScript: \(line diff\)$/.test(l));
    assert.match(onlySecret.lines[secretAt + 1] ?? '', /^ +\(no line changes as shown: only masked values change/);
    assert.match(onlySecret.result.planMarkdown ?? '', /only masked values change/);
    assert.doesNotMatch([...onlySecret.lines, onlySecret.result.planMarkdown].join('\n'), /s3cret/);

    const onlyEndings = await run(seeded({ sqlScript: PREVIOUS }), sqlArtifact(PREVIOUS.replace(/\n/g, '\r\n')), { action: 'plan' });
    assert.equal(onlyEndings.result.outcome, 'planned', onlyEndings.result.message);
    const endingsAt = onlyEndings.lines.findIndex((l) => /\.sqlScript: \(line diff\)$/.test(l));
    assert.equal(onlyEndings.lines[endingsAt + 1]?.trim(), '(no line changes: only the line endings do, LF → CRLF; the script is sent as it is)');
    assert.equal(onlyEndings.result.restartRequired, true);
  });

  it('blocks an online plan of a script VVP rejects, with the problem at its place', async () => {
    const vvp = seeded();
    const script = NEXT.replace('INSERT INTO snk', 'INSERT INTO sink');
    const r = await run(vvp, sqlArtifact(script), { action: 'plan' });
    assert.equal(r.result.outcome, 'blocked', r.result.message);
    assert.deepEqual(r.result.sqlProblems?.problems.map((p) => p.position), [positionIn(script, 'sink')]);
    assert.deepEqual(writes(vvp), []);
  });

  it('plans offline: reports shape problems at their positions and blocks', async () => {
    const script = ['BEGIN STATEMENT SET;', '  INSERT INTO snk SELECT s FROM src;', "  SET 'a' = 'b';", 'END;', ''].join('\n');
    const r = await run(undefined, sqlArtifact(script), { action: 'plan' });
    assert.equal(r.result.outcome, 'blocked', r.result.message);
    assert.equal(r.result.sqlProblems?.file, FILE);
    assert.deepEqual(r.result.sqlProblems?.problems.map((p) => p.position), [{ line: 3, column: 3 }]);
    assert.match(r.result.sqlProblems?.problems[0].message ?? '', /SET inside BEGIN STATEMENT SET/);
  });

  it('plans offline a valid script without showing a sensitive WITH value in the body it logs', async () => {
    const r = await run(undefined, sqlArtifact(NEW_WITH_SECRET), { action: 'plan' });
    assert.equal(r.result.outcome, 'planned', r.result.message);
    const text = [...r.lines, r.result.planMarkdown ?? '', r.result.message, r.summary].join('\n');
    assert.doesNotMatch(text, /s3cret/);
    assert.match(text, /'password' = '\*\*\*'/);
  });
});
