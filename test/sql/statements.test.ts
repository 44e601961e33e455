import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkScriptShape } from '../../tasks/common/sql/shape';
import { splitStatements } from '../../tasks/common/sql/statements';

const SOURCE = "CREATE TEMPORARY TABLE src (s VARCHAR) WITH ('connector' = 'datagen');";
const SINK = "CREATE TEMPORARY TABLE snk (s VARCHAR) WITH ('connector' = 'print');";
const INSERT = 'INSERT INTO snk SELECT s FROM src;';

describe('splitStatements', () => {
  const cases: { what: string; script: string; texts: string[] }[] = [
    { what: 'splits at top-level semicolons', script: `${SOURCE}\n${SINK}\n${INSERT}\n`, texts: [SOURCE, SINK, INSERT] },
    { what: "keeps a ';' inside a string, with '' escapes", script: "SELECT 'a;''b;';SELECT 2;", texts: ["SELECT 'a;''b;';", 'SELECT 2;'] },
    { what: 'keeps a \';\' inside double-quoted and backtick identifiers, with doubled escapes', script: 'SELECT "a;""b" FROM `t;``x`; SELECT 1', texts: ['SELECT "a;""b" FROM `t;``x`;', 'SELECT 1'] },
    { what: "ignores a ';' in a -- line comment and in a /* */ block comment", script: '-- one; two\nSELECT 1 /* x; y */ ;\n/* ; */ SELECT 2;', texts: ['SELECT 1 /* x; y */ ;', 'SELECT 2;'] },
    { what: 'starts a statement at its first token, after comments and blank lines', script: '\n\n  -- note\n  INSERT INTO a SELECT 1;', texts: ['INSERT INTO a SELECT 1;'] },
    { what: 'keeps a last statement without a semicolon', script: 'SELECT 1;\nINSERT INTO a SELECT 2\n', texts: ['SELECT 1;', 'INSERT INTO a SELECT 2'] },
    { what: 'makes nothing of a script of comments and semicolons only', script: '-- only a comment\n;\n /* and this */', texts: [';'] },
    { what: 'folds BEGIN STATEMENT SET; … END; into one statement', script: `${SINK}\nBEGIN STATEMENT SET;\n${INSERT}\n${INSERT}\nEND;\n`, texts: [SINK, `BEGIN STATEMENT SET;\n${INSERT}\n${INSERT}\nEND;`] },
  ];
  for (const c of cases) {
    it(c.what, () => {
      const split = splitStatements(c.script);
      assert.deepEqual(split.statements.map((s) => s.text), c.texts);
      assert.deepEqual(split.problems, []);
      for (const s of split.statements) assert.equal(c.script.slice(s.start, s.end), s.text);
    });
  }

  it('gives each statement its 1-based line and column, with CRLF line endings counted as one break', () => {
    const script = `${SOURCE}\r\n\r\n   ${INSERT}\r\n`;
    const [first, second] = splitStatements(script).statements;
    assert.deepEqual(first.position, { line: 1, column: 1 });
    assert.deepEqual(second.position, { line: 3, column: 4 });
    assert.deepEqual(second.endPosition, { line: 3, column: 3 + INSERT.length });
  });

  it('records the leading keywords in upper case, skipping comments between them', () => {
    const [s] = splitStatements('create /* why */ temporary\n-- note\n system function f AS \'x\';').statements;
    assert.deepEqual(s.keywords, ['CREATE', 'TEMPORARY', 'SYSTEM', 'FUNCTION']);
  });

  it('keeps the INSERTs of a statement set as its block, each with its own position', () => {
    const [block] = splitStatements(`BEGIN STATEMENT SET;\n  ${INSERT}\n  ${INSERT}\nEND;`).statements;
    assert.equal(block.block?.length, 2);
    assert.deepEqual(block.block?.map((s) => s.position), [
      { line: 2, column: 3 },
      { line: 3, column: 3 },
    ]);
  });

  const unclosed: { what: string; script: string; line: number; column: number; message: RegExp }[] = [
    { what: 'a string', script: "SELECT 1;\nSELECT 'it''s;", line: 2, column: 8, message: /string literal is never closed/ },
    { what: 'a backtick identifier', script: 'SELECT `a', line: 1, column: 8, message: /backtick/ },
    { what: 'a double-quoted identifier', script: 'SELECT "a', line: 1, column: 8, message: /double quote/ },
    { what: 'a block comment', script: 'SELECT 1; /* never\nends;', line: 1, column: 11, message: /comment is never closed/ },
  ];
  for (const c of unclosed) {
    it(`reports ${c.what} that is never closed at the place it starts`, () => {
      const { problems } = splitStatements(c.script);
      assert.equal(problems.length, 1);
      assert.match(problems[0].message, c.message);
      assert.deepEqual(problems[0].position, { line: c.line, column: c.column });
    });
  }

  it('reports a BEGIN STATEMENT SET without END at the BEGIN', () => {
    const { problems } = splitStatements(`${SINK}\nBEGIN STATEMENT SET;\n${INSERT}`);
    assert.equal(problems.length, 1);
    assert.match(problems[0].message, /no END/);
    assert.deepEqual(problems[0].position, { line: 2, column: 1 });
  });
});

describe('checkScriptShape', () => {
  const valid: { what: string; script: string }[] = [
    { what: 'temporary tables, then one INSERT INTO', script: `${SOURCE}\n${SINK}\n${INSERT}` },
    { what: 'one INSERT alone (catalog tables)', script: 'INSERT INTO sink SELECT * FROM src' },
    { what: 'INSERT OVERWRITE', script: `${SINK}\nINSERT OVERWRITE snk SELECT 1;` },
    { what: 'temporary views and (system) functions', script: `CREATE TEMPORARY VIEW v AS SELECT 1;\nCREATE TEMPORARY FUNCTION f AS 'a.F';\nCREATE TEMPORARY SYSTEM FUNCTION g AS 'a.G';\n${INSERT}` },
    { what: 'one STATEMENT SET block with END', script: `${SOURCE}\nbegin statement set;\n${INSERT}\n${INSERT}\nend;` },
    { what: 'comments with semicolons and quotes anywhere', script: `-- setup; 'quoted'\n${SOURCE} /* ; */\n${INSERT} -- done;` },
  ];
  for (const c of valid) {
    it(`accepts ${c.what}`, () => {
      const shape = checkScriptShape(splitStatements(c.script).statements);
      assert.deepEqual(shape.problems, []);
      assert.ok(shape.insert);
    });
  }

  it('names the temporaries and the insert for validation statement by statement', () => {
    const shape = checkScriptShape(splitStatements(`${SOURCE}\n${SINK}\n${INSERT}`).statements);
    assert.deepEqual(shape.temporaries.map((s) => s.position.line), [1, 2]);
    assert.equal(shape.insert?.text, INSERT);
  });

  const invalid: { what: string; script: string; line?: number; column?: number; message: RegExp }[] = [
    { what: 'an empty script', script: ' -- nothing\n', message: /has no statements/ },
    { what: 'a script without INSERT', script: SOURCE, message: /no INSERT INTO/ },
    { what: 'a SELECT', script: `${SOURCE}\n  SELECT * FROM src;\n${INSERT}`, line: 2, column: 3, message: /^SELECT is not allowed/ },
    { what: 'a second INSERT', script: `${SINK}\n${INSERT}\n${INSERT}`, line: 3, column: 1, message: /A second INSERT INTO/ },
    { what: 'a non-temporary CREATE TABLE', script: `CREATE TABLE t (a INT);\n${INSERT}`, line: 1, column: 1, message: /^CREATE TABLE creates a catalog object.*CREATE TEMPORARY/ },
    { what: 'DDL after the INSERT', script: `${INSERT}\n${SINK}`, line: 2, column: 1, message: /CREATE TEMPORARY TABLE after the INSERT INTO \(line 1\)/ },
    { what: 'SET', script: `SET 'parallelism.default' = '2';\n${INSERT}`, line: 1, column: 1, message: /SET is not allowed.*flinkConfiguration/ },
    { what: 'an empty STATEMENT SET', script: `${SINK}\nBEGIN STATEMENT SET;\nEND;`, line: 2, column: 1, message: /block is empty/ },
    { what: 'a SELECT inside a STATEMENT SET', script: `BEGIN STATEMENT SET;\n${INSERT}\n SELECT 1;\nEND;`, line: 3, column: 2, message: /SELECT inside BEGIN STATEMENT SET/ },
    { what: 'an INSERT next to a STATEMENT SET', script: `BEGIN STATEMENT SET;\n${INSERT}\nEND;\n${INSERT}`, line: 4, column: 1, message: /A second INSERT INTO/ },
    { what: 'a stray END', script: `${INSERT}\nEND;`, line: 2, column: 1, message: /END without BEGIN STATEMENT SET|after the INSERT/ },
    { what: 'a statement that starts with no keyword', script: `('x');\n${INSERT}`, line: 1, column: 1, message: /The statement '\('x'\);' is not allowed/ },
  ];
  for (const c of invalid) {
    it(`refuses ${c.what} at the offending statement, saying what is allowed`, () => {
      const { problems } = checkScriptShape(splitStatements(c.script).statements);
      assert.equal(problems.length, 1, JSON.stringify(problems));
      assert.match(problems[0].message, c.message);
      assert.match(problems[0].message, /zero or more CREATE TEMPORARY TABLE, VIEW or FUNCTION statements/);
      assert.deepEqual(problems[0].position, c.line === undefined ? undefined : { line: c.line, column: c.column });
    });
  }
});
