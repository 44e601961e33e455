/**
 * checkSqlScript: the offline shape check with file positions, VVP's validation on the in-memory
 * VVP (the simulator's SQL service) with positions mapped back to the file, the statement-by-
 * statement fallback, a VVP without the SQL service, and failures that propagate.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkSqlScript, type SqlCheck, type SqlCheckOptions, type SqlScriptSource } from '../../tasks/common/sql/check-script';
import { VvpApiError } from '../../tasks/common/vvp/errors';
import type { SqlValidation } from '../../tasks/common/vvp/sql-validation';
import { InMemoryVvp } from '../support/in-memory-vvp';

const FILE = '/agent/_work/1/s/sql/orders.sql';

const SOURCE = "CREATE TEMPORARY TABLE src (s VARCHAR) WITH ('connector' = 'datagen');";
const SINK = "CREATE TEMPORARY TABLE snk (s VARCHAR) WITH ('connector' = 'print');";
const VALID = [SOURCE, SINK, 'INSERT INTO snk SELECT s FROM src;'].join('\n');

function online(vvp: InMemoryVvp, scope = {}): SqlCheckOptions {
  return { vvp, namespace: 'default', scope };
}

async function check(script: string, options: SqlCheckOptions = {}): Promise<SqlCheck> {
  const source: SqlScriptSource = { script, file: FILE };
  return checkSqlScript(source, options);
}

/** `line:column message-fragment` of each problem, `-` for no position. */
function where(result: SqlCheck): string[] {
  return result.problems.map((p) => (p.position ? `${p.position.line}:${p.position.column}` : '-'));
}

describe('checkSqlScript offline', () => {
  const cases: { what: string; script: string; deployable: boolean; at: string[]; message?: RegExp }[] = [
    { what: 'temporary tables then one INSERT', script: VALID, deployable: true, at: [] },
    {
      what: 'a STATEMENT SET … END block after the temporary tables',
      script: `${SOURCE}\n${SINK}\nBEGIN STATEMENT SET;\n  INSERT INTO snk SELECT s FROM src;\n  INSERT INTO snk SELECT UPPER(s) FROM src;\nEND;\n`,
      deployable: true,
      at: [],
    },
    {
      what: "quotes, backticks and comments holding ';'",
      script: `-- setup; not a statement\nCREATE TEMPORARY TABLE \`a;b\` (s VARCHAR COMMENT 'x;y') WITH ('connector' = 'datagen'); /* ; */\n${SINK}\nINSERT INTO snk SELECT s FROM \`a;b\` WHERE s <> ';';\n`,
      deployable: true,
      at: [],
    },
    { what: 'a comment-only script', script: '-- nothing here yet;\n/* INSERT INTO x SELECT 1; */\n', deployable: false, at: ['-'], message: /no statements/ },
    { what: 'a SELECT after the tables', script: `${SOURCE}\nSELECT * FROM src;\n`, deployable: false, at: ['-', '2:1'] },
    { what: 'a SET statement on line 2, indented', script: `${SOURCE}\n  SET 'parallelism.default' = '2';\n${SINK}\nINSERT INTO snk SELECT s FROM src;`, deployable: false, at: ['2:3'], message: /SET is not allowed/ },
    { what: 'a string never closed', script: `${SOURCE}\nINSERT INTO snk SELECT 'open FROM src;\n`, deployable: false, at: ['2:24'], message: /string literal is never closed/ },
    { what: 'a second INSERT', script: `${VALID}\nINSERT INTO snk SELECT s FROM src;`, deployable: false, at: ['4:1'], message: /A second INSERT INTO/ },
  ];
  for (const c of cases) {
    it(`${c.deployable ? 'passes' : 'refuses'} ${c.what}${c.at.length ? ` (problems at ${c.at.join(', ')})` : ''}`, async () => {
      const result = await check(c.script);
      assert.equal(result.validatedBy, 'offline');
      assert.equal(result.deployable, c.deployable);
      assert.deepEqual(where(result), c.at);
      assert.deepEqual(result.warnings, []);
      if (c.message) assert.match(result.problems.map((p) => p.message).join('\n'), c.message);
    });
  }

  it('does not ask VVP when the offline check already fails', async () => {
    const vvp = new InMemoryVvp();
    const result = await check('SELECT 1;', online(vvp));
    assert.equal(result.deployable, false);
    assert.equal(result.validatedBy, 'offline');
    assert.equal(vvp.requests({ path: 'sqlscripts:validate' }).length, 0);
  });
});

describe('checkSqlScript with VVP validating whole scripts', () => {
  it('deploys a valid INSERT script VVP validated as a whole, sending the file text unchanged with the catalog and database', async () => {
    const vvp = new InMemoryVvp();
    const script = `\r\n${VALID.replace(/\n/g, '\r\n')}\r\n`;
    const result = await check(script, online(vvp, { catalog: 'vvp', database: 'orders' }));
    assert.deepEqual(result, { problems: [], warnings: [], validatedBy: 'vvp', deployable: true });
    const requests = vvp.requests({ path: 'sqlscripts:validate' });
    assert.equal(requests.length, 1);
    assert.deepEqual(requests[0].body, { statement: script });
    assert.deepEqual(requests[0].query, { catalog: 'vvp', database: 'orders' });
  });

  it('puts a VVP error at its line and column in the file (the INSERT into a missing table on line 3)', async () => {
    const vvp = new InMemoryVvp();
    const result = await check(VALID.replace('INSERT INTO snk', 'INSERT INTO missing'), online(vvp));
    assert.equal(result.deployable, false);
    assert.equal(result.validatedBy, 'vvp');
    assert.deepEqual(result.problems.map((p) => [p.position, p.endPosition]), [[{ line: 3, column: 13 }, { line: 3, column: 19 }]]);
    assert.match(result.problems[0].message, /^VVP: SQL validation failed\. .*Object 'missing' not found \[VALIDATION_RESULT_INVALID_QUERY\]$/);
  });

  it('turns an error VVP reports at line 0, column 0 into a problem without a position', async () => {
    const vvp = new InMemoryVvp();
    // A temporary table created twice: VVP's "already exists" has no position.
    const script = `${SOURCE}\n${SOURCE}\nINSERT INTO snk SELECT s FROM src;`;
    const result = await check(script, online(vvp));
    assert.equal(result.deployable, false);
    assert.equal(result.problems.length, 1);
    assert.equal(result.problems[0].position, undefined);
    assert.equal(result.problems[0].endPosition, undefined);
    assert.match(result.problems[0].message, /Temporary table `vvp`\.`default`\.`src` already exists\. \[VALIDATION_RESULT_INVALID_QUERY\] \(VVP gives no line for this error\)$/);
  });

  it('deploys a STATEMENT SET block VVP validates as an INSERT', async () => {
    const vvp = new InMemoryVvp();
    const script = `${SOURCE}\n${SINK}\nBEGIN STATEMENT SET;\nINSERT INTO snk SELECT s FROM src;\nEND;`;
    const result = await check(script, online(vvp));
    assert.deepEqual(result, { problems: [], warnings: [], validatedBy: 'vvp', deployable: true });
  });

  it('validates a script whose quotes, backticks and comments hold semicolons as one text', async () => {
    const vvp = new InMemoryVvp();
    const script = `/* a; b */ ${SOURCE}\n-- ;;\n${SINK.replace("'print'", "'print' /* ; */")}\nINSERT INTO \`snk\` SELECT s FROM src WHERE s <> ';';`;
    const result = await check(script, online(vvp));
    assert.deepEqual(result, { problems: [], warnings: [], validatedBy: 'vvp', deployable: true });
    assert.equal(vvp.requests({ path: 'sqlscripts:validate' }).length, 1);
  });

  it('warns and keeps the offline verdict when VVP has no SQL service (404): VVP validates at job start', async () => {
    const vvp = new InMemoryVvp();
    vvp.setConfig({ sqlService: false });
    const result = await check(VALID, online(vvp));
    assert.equal(result.deployable, true);
    assert.equal(result.validatedBy, 'offline');
    assert.deepEqual(result.problems, []);
    assert.equal(result.warnings.length, 1);
    assert.match(result.warnings[0], /no SQL validation service \(404 .*orders\.sql passed the offline check only; VVP validates it at job start/);
  });

  it('lets an HTTP failure of the validation propagate', async () => {
    const vvp = new InMemoryVvp();
    vvp.addFault({ method: 'POST', path: 'sqlscripts:validate', status: 500, times: 5 });
    await assert.rejects(check(VALID, online(vvp)), (error: unknown) => error instanceof VvpApiError && error.status === 500);
  });
});

describe('checkSqlScript with a VVP that validates one statement per request', () => {
  it('falls back to statement by statement, says so, and passes a script whose statements VVP accepts', async () => {
    const vvp = new InMemoryVvp();
    vvp.setConfig({ sqlValidation: 'statement', sqlCatalogTables: ['snk'] });
    const script = `${SOURCE}\nINSERT INTO snk SELECT s FROM src;`;
    const result = await check(script, online(vvp));
    assert.equal(result.validatedBy, 'vvp-per-statement');
    assert.deepEqual(result.problems, []);
    assert.equal(result.deployable, true);
    assert.match(result.warnings[0], /does not validate a script of several statements as a whole \(VALIDATION_RESULT_UNSUPPORTED_QUERY\): each statement of orders\.sql was validated with the temporary statements before it/);
    const sent = vvp.requests({ path: 'sqlscripts:validate' }).map((r) => (r.body as { statement: string }).statement);
    // The whole script, the CREATE alone, the INSERT with the CREATE (refused: two statements), the INSERT alone.
    assert.deepEqual(sent, [script, SOURCE, `${SOURCE}\nINSERT INTO snk SELECT s FROM src;`, 'INSERT INTO snk SELECT s FROM src;']);
  });

  it('reports an error of a statement VVP validated alone as a warning when it may need the temporary tables', async () => {
    const vvp = new InMemoryVvp();
    vvp.setConfig({ sqlValidation: 'statement' });
    const result = await check(VALID, online(vvp));
    assert.equal(result.deployable, true);
    assert.deepEqual(result.problems, []);
    assert.ok(result.warnings.some((w) => /Object 'snk' not found .*validated alone: VVP did not accept it together with the temporary statements before it/.test(w)), result.warnings.join('\n'));
  });
});

describe('checkSqlScript reading VVP results', () => {
  /** A VVP whose validation answers what the test says, recording what it was sent. */
  function answering(...answers: SqlValidation[]): { vvp: SqlCheckOptions; sent: string[] } {
    const sent: string[] = [];
    const api = {
      validateSqlScript: (_ns: string, statement: string): Promise<SqlValidation> => {
        sent.push(statement);
        const answer = answers.shift();
        assert.ok(answer, 'no more answers');
        return Promise.resolve(answer);
      },
    };
    return { vvp: { vvp: api, namespace: 'default' }, sent };
  }
  const answer = (result: string | undefined, errorDetails?: Record<string, number | string>): SqlValidation => ({
    available: true,
    result: result as never,
    reported: result,
    valid: result?.startsWith('VALIDATION_RESULT_VALID_') ?? false,
    deployable: result === 'VALIDATION_RESULT_VALID_INSERT_QUERY',
    ...(errorDetails ? { errorDetails } : {}),
  });

  const cases: { result: string | undefined; deployable: boolean; message?: RegExp }[] = [
    { result: 'VALIDATION_RESULT_VALID_INSERT_QUERY', deployable: true },
    { result: 'VALIDATION_RESULT_VALID_SELECT_QUERY', deployable: false, message: /as VALIDATION_RESULT_VALID_SELECT_QUERY, not as an INSERT/ },
    { result: 'VALIDATION_RESULT_VALID_DDL_STATEMENT', deployable: false, message: /not as an INSERT/ },
    { result: 'VALIDATION_RESULT_INVALID_CONNECTOR_CONFIG', deployable: false, message: /^VVP: a connector configuration \(WITH options\) is invalid \[VALIDATION_RESULT_INVALID_CONNECTOR_CONFIG\]/ },
    { result: 'VALIDATION_RESULT_INVALID', deployable: false, message: /^VVP: the SQL is invalid \[VALIDATION_RESULT_INVALID\]/ },
    { result: 'UNRECOGNIZED', deployable: false, message: /VVP answered UNRECOGNIZED, which is not a valid INSERT/ },
    { result: undefined, deployable: false, message: /no validationResult/ },
  ];
  for (const c of cases) {
    it(`${c.deployable ? 'deploys' : 'refuses'} a script VVP answers ${c.result ?? 'without a result'}`, async () => {
      const { vvp } = answering(answer(c.result));
      const result = await check(VALID, vvp);
      assert.equal(result.deployable, c.deployable);
      assert.equal(result.problems.length, c.deployable ? 0 : 1);
      if (c.message) assert.match(result.problems[0].message, c.message);
    });
  }

  it('refuses a single-statement script VVP answers UNSUPPORTED_QUERY without trying statement by statement', async () => {
    const { vvp, sent } = answering(answer('VALIDATION_RESULT_UNSUPPORTED_QUERY', { lineNumber: 1, columnNumber: 8, endLineNumber: 1, endColumnNumber: 12, message: 'Unsupported: OVERWRITE' }));
    const result = await check('INSERT OVERWRITE snk SELECT 1;', vvp);
    assert.equal(result.validatedBy, 'vvp');
    assert.deepEqual(where(result), ['1:8']);
    assert.equal(sent.length, 1);
  });

  it('names a position VVP gives outside the text sent as no position', async () => {
    const { vvp } = answering(answer('VALIDATION_RESULT_INVALID_QUERY', { lineNumber: 40, columnNumber: 2, endLineNumber: 40, endColumnNumber: 3, message: 'far away' }));
    const result = await check(VALID, vvp);
    assert.deepEqual(where(result), ['-']);
    assert.match(result.problems[0].message, /far away .*VVP gives no line/);
  });

  it('maps a per-statement error back to the file: the INSERT was sent without its indentation, so column 25 sent is column 28 in the file', async () => {
    const { vvp, sent } = answering(
      answer('VALIDATION_RESULT_UNSUPPORTED_QUERY'),
      answer('VALIDATION_RESULT_VALID_DDL_STATEMENT'),
      answer('VALIDATION_RESULT_VALID_DDL_STATEMENT'),
      answer('VALIDATION_RESULT_INVALID_QUERY', { lineNumber: 3, columnNumber: 25, endLineNumber: 3, endColumnNumber: 27, message: 'SQL parse failed. Encountered "src"' }),
    );
    const script = `${SOURCE}\n${SINK}\n   INSERT INTO snk SELECT s FROM src;`;
    const result = await check(script, vvp);
    assert.equal(sent[3], `${SOURCE}\n${SINK}\nINSERT INTO snk SELECT s FROM src;`);
    assert.deepEqual(result.problems.map((p) => [p.position, p.endPosition]), [[{ line: 3, column: 28 }, { line: 3, column: 30 }]]);
    assert.equal(result.validatedBy, 'vvp-per-statement');
  });
});
