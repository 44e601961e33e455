/**
 * `validateSqlScript` of the VvpClient over HTTP against the VVP simulator (a child process), of
 * the in-memory VVP, and SQLSCRIPT deployments in the simulator.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { VvpClient } from '../../tasks/common/vvp/client';
import { VvpApiError } from '../../tasks/common/vvp/errors';
import type { JsonObject } from '../../tasks/common/vvp/resources';
import { parseSqlValidation } from '../../tasks/common/vvp/sql-validation';
import { InMemoryVvp } from '../support/in-memory-vvp';
import { startSimulator, type RunningSimulator } from '../vvp-simulator/client';

const EDITOR = 'sql-editor-tok-7d1e';
const VIEWER = 'sql-viewer-tok-4b2c';
const SCRIPT = [
  "CREATE TEMPORARY TABLE src (s VARCHAR) WITH ('connector' = 'datagen');",
  "CREATE TEMPORARY TABLE snk (s VARCHAR) WITH ('connector' = 'print');",
  'INSERT INTO snk SELECT s FROM src;',
].join('\n');

describe('VvpClient.validateSqlScript against the VVP simulator', () => {
  let sim: RunningSimulator;
  let vvp: VvpClient;

  before(async () => {
    sim = await startSimulator({
      tokens: [
        { token: EDITOR, namespace: 'default', role: 'editor' },
        { token: VIEWER, namespace: 'default', role: 'viewer' },
      ],
    });
    vvp = new VvpClient(sim.url, VIEWER);
  });
  after(async () => {
    await sim?.stop();
  });

  it('answers a valid INSERT script as deployable, with a viewer token, sending the statement, catalog and database', async () => {
    await sim.control.clearRequests();
    const result = await vvp.validateSqlScript('default', SCRIPT, { catalog: 'vvp', database: 'orders' });
    assert.deepEqual(result, { available: true, result: 'VALIDATION_RESULT_VALID_INSERT_QUERY', reported: 'VALIDATION_RESULT_VALID_INSERT_QUERY', valid: true, deployable: true });
    const [request] = await sim.control.requests({ path: 'sqlscripts:validate' });
    assert.equal(request.method, 'POST');
    assert.equal(request.path, '/sql/v1beta1/namespaces/default/sqlscripts:validate');
    assert.deepEqual(request.query, { catalog: 'vvp', database: 'orders' });
    assert.deepEqual(request.body, { statement: SCRIPT });
  });

  it('reports a parse error as VVP records it: HTTP 200, INVALID_QUERY, line 1 column 1 to 5', async () => {
    const result = await vvp.validateSqlScript('default', 'WRONG STATEMENT');
    assert.equal(result.available && result.result, 'VALIDATION_RESULT_INVALID_QUERY');
    assert.equal(result.available && result.deployable, false);
    assert.deepEqual(result.available && result.errorDetails, {
      lineNumber: 1,
      columnNumber: 1,
      endLineNumber: 1,
      endColumnNumber: 5,
      message: 'SQL parse failed. Non-query expression encountered in illegal context',
      cause: '',
    });
  });

  it('reports a catalog table that already exists without a position (all numbers 0)', async () => {
    await sim.control.setConfig({ sqlCatalogTables: ['test'] });
    try {
      const result = await vvp.validateSqlScript('default', 'CREATE TABLE test (a INT);', { catalog: 'default', database: 'default' });
      assert.deepEqual(result.available && result.errorDetails, {
        lineNumber: 0,
        columnNumber: 0,
        endLineNumber: 0,
        endColumnNumber: 0,
        message: 'Table `default`.`default`.`test` already exists.',
        cause: '',
      });
    } finally {
      await sim.control.setConfig({ sqlCatalogTables: [] });
    }
  });

  it('answers a multi-statement script UNSUPPORTED_QUERY when the simulator validates single statements only', async () => {
    await sim.control.setConfig({ sqlValidation: 'statement' });
    try {
      const whole = await vvp.validateSqlScript('default', SCRIPT);
      assert.equal(whole.available && whole.result, 'VALIDATION_RESULT_UNSUPPORTED_QUERY');
      const one = await vvp.validateSqlScript('default', 'CREATE TEMPORARY TABLE t (a INT);');
      assert.equal(one.available && one.result, 'VALIDATION_RESULT_VALID_DDL_STATEMENT');
      assert.equal(one.available && one.deployable, false);
    } finally {
      await sim.control.setConfig({ sqlValidation: 'script' });
    }
  });

  it('answers "not available" when VVP has no SQL service (404)', async () => {
    await sim.control.setConfig({ sqlService: false });
    try {
      assert.deepEqual(await vvp.validateSqlScript('default', SCRIPT), { available: false });
    } finally {
      await sim.control.setConfig({ sqlService: true });
    }
  });

  it('retries the validation like a GET when VVP answers 503 once', async () => {
    await sim.control.clearRequests();
    await sim.control.addFault({ method: 'POST', path: 'sqlscripts:validate', status: 503, times: 1 });
    const client = new VvpClient(sim.url, VIEWER, { retry: { baseDelayInMs: 1, maxDelayInMs: 2 } });
    const result = await client.validateSqlScript('default', SCRIPT);
    assert.equal(result.available && result.deployable, true);
    assert.equal((await sim.control.requests({ path: 'sqlscripts:validate' })).length, 2);
  });

  it('fails with a VvpApiError naming the operation when the token is refused', async () => {
    const client = new VvpClient(sim.url, 'not-a-known-token', { retry: { maxAttempts: 1 } });
    await assert.rejects(client.validateSqlScript('default', SCRIPT), (error: unknown) => {
      assert.ok(error instanceof VvpApiError);
      assert.equal(error.status, 401);
      assert.match(error.message, /validating the SQL script in namespace 'default'/);
      assert.equal(error.outcomeUnknown, false);
      return true;
    });
  });
});

describe('parseSqlValidation', () => {
  const cases: { what: string; body: unknown; valid: boolean; result: string | undefined }[] = [
    { what: 'an unknown validationResult', body: { validationResult: 'VALIDATION_RESULT_SOMETHING_NEW' }, valid: false, result: undefined },
    { what: 'UNRECOGNIZED', body: { validationResult: 'UNRECOGNIZED' }, valid: false, result: 'UNRECOGNIZED' },
    { what: 'a null validationResult', body: { validationResult: null, errorDetails: null }, valid: false, result: undefined },
    { what: 'a body that is not an object', body: 'ok', valid: false, result: undefined },
    { what: 'a valid SELECT', body: { validationResult: 'VALIDATION_RESULT_VALID_SELECT_QUERY' }, valid: true, result: 'VALIDATION_RESULT_VALID_SELECT_QUERY' },
  ];
  for (const c of cases) {
    it(`reads ${c.what} as ${c.valid ? 'valid' : 'invalid'} and never deployable`, () => {
      const parsed = parseSqlValidation(c.body);
      assert.ok(parsed.available);
      assert.equal(parsed.valid, c.valid);
      assert.equal(parsed.result, c.result);
      assert.equal(parsed.deployable, false);
    });
  }

  it('drops null numbers and keeps the ones VVP sent', () => {
    const parsed = parseSqlValidation({ validationResult: 'VALIDATION_RESULT_INVALID_QUERY', errorDetails: { lineNumber: 3, columnNumber: null, message: 'm', cause: '' } });
    assert.deepEqual(parsed.available && parsed.errorDetails, { lineNumber: 3, message: 'm', cause: '' });
  });
});

describe('the in-memory VVP: SQL validation and SQLSCRIPT deployments', () => {
  const sqlDeployment = (name: string, sqlScript: string): JsonObject => ({
    metadata: { name },
    spec: { state: 'RUNNING', template: { spec: { artifact: { kind: 'SQLSCRIPT', sqlScript, additionalDependencies: ['wasbs://vvp@acct.blob.core.windows.net/artifacts/namespaces/default/udf.jar'] } } } },
  });

  it('validates through the same handlers as the HTTP simulator and records the call', async () => {
    const vvp = new InMemoryVvp();
    const valid = await vvp.validateSqlScript('default', SCRIPT, { catalog: 'vvp' });
    assert.equal(valid.available && valid.deployable, true);
    const invalid = await vvp.validateSqlScript('default', `${SCRIPT.replace('INSERT INTO snk', 'INSERT INTO missing')}`);
    assert.equal(invalid.available && invalid.result, 'VALIDATION_RESULT_INVALID_QUERY');
    assert.deepEqual(invalid.available && [invalid.errorDetails?.lineNumber, invalid.errorDetails?.columnNumber, invalid.errorDetails?.endColumnNumber], [3, 13, 19]);
    assert.match((invalid.available && invalid.errorDetails?.message) || '', /Object 'missing' not found/);
    const [request] = vvp.requests({ path: 'sqlscripts:validate' });
    assert.equal(request.path, '/sql/v1beta1/namespaces/default/sqlscripts:validate');
    assert.deepEqual(request.query, { catalog: 'vvp' });
    vvp.setConfig({ sqlService: false });
    assert.deepEqual(await vvp.validateSqlScript('default', SCRIPT), { available: false });
  });

  it('runs a SQLSCRIPT deployment: the job carries the script and the dependencies', async () => {
    const vvp = new InMemoryVvp();
    await vvp.createDeployment('default', sqlDeployment('orders', SCRIPT));
    await vvp.clock.sleep(30_000);
    const truth = vvp.truth('default', 'orders');
    assert.equal(truth.statusState, 'RUNNING');
    assert.equal(truth.runningJob?.sqlScript, SCRIPT);
    assert.equal(truth.specSqlScript, SCRIPT);
    const job = await vvp.getJob('default', truth.runningJob?.id ?? '');
    const artifact = (job?.spec as JsonObject | undefined)?.artifact as JsonObject;
    assert.equal(artifact.kind, 'SQLSCRIPT');
    assert.deepEqual(artifact.additionalDependencies, ['wasbs://vvp@acct.blob.core.windows.net/artifacts/namespaces/default/udf.jar']);
  });

  it('fails the job of an invalid script at start with a Flink SQL error, and a valid script runs again afterwards', async () => {
    const vvp = new InMemoryVvp();
    vvp.seedDeployment({ name: 'orders', sqlScript: SCRIPT });
    await vvp.patchDeployment('default', 'orders', { spec: { template: { spec: { artifact: { sqlScript: `${SCRIPT}\nWRONG STATEMENT;` } } } } });
    await vvp.clock.sleep(120_000);
    const failed = vvp.truth('default', 'orders');
    assert.equal(failed.statusState, 'FAILED');
    const job = failed.jobs.at(-1);
    assert.equal(job?.state, 'FAILED');
    assert.match(String((job?.failure as { message?: string })?.message), /^org\.apache\.flink\.table\.api\.SqlParserException: SQL parse failed\. Non-query expression encountered in illegal context \(line 4, column 1\)$/);
    assert.ok(failed.events.includes('FAILED_CREATING_A_NEW_JOB'));
    await vvp.patchDeployment('default', 'orders', { spec: { template: { spec: { artifact: { sqlScript: SCRIPT } } } } });
    await vvp.clock.sleep(120_000);
    assert.equal(vvp.truth('default', 'orders').statusState, 'RUNNING');
  });

  it('refuses a SQLSCRIPT deployment without a script (400)', async () => {
    const vvp = new InMemoryVvp();
    await assert.rejects(vvp.createDeployment('default', sqlDeployment('empty', ' ')), (error: unknown) => error instanceof VvpApiError && error.status === 400 && /sqlScript is required/.test(error.message));
  });

  it('keeps JAR deployments as they were: a JAR job has no sqlScript', async () => {
    const vvp = new InMemoryVvp();
    vvp.seedDeployment({ name: 'jar', jarUri: 'wasbs://vvp@acct.blob.core.windows.net/a.jar' });
    assert.equal(vvp.truth('default', 'jar').runningJob?.sqlScript, null);
    assert.equal(vvp.truth('default', 'jar').specSqlScript, null);
  });
});
