import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { maskSensitiveOptions } from '../../tasks/common/sql/mask-options';
import { diffScripts } from '../../tasks/common/sql/script-diff';
import { isSensitiveConfigKey } from '../../tasks/common/vvp/sensitive-keys';

describe('isSensitiveConfigKey', () => {
  const sensitive = [
    'properties.sasl.jaas.config',
    'password',
    'PASSWORD',
    'fs.azure.account.key.acct.blob.core.windows.net',
    'client.secret',
    'apikey',
    'schema-registry.api-key',
    'pulsar.auth-params',
    'service-key',
    'access.token',
    'basic-auth.user-info',
    'http-headers',
  ];
  for (const key of sensitive) it(`treats '${key}' as sensitive`, () => assert.equal(isSensitiveConfigKey(key), true));
  for (const key of ['connector', 'topic', 'properties.bootstrap.servers', 'format', 'state.backend']) {
    it(`shows '${key}'`, () => assert.equal(isSensitiveConfigKey(key), false));
  }
});

describe('maskSensitiveOptions', () => {
  it('masks the values of sensitive WITH options and keeps keys and other values', () => {
    const script = [
      'CREATE TEMPORARY TABLE k (a INT) WITH (',
      "  'connector' = 'kafka',",
      "  'properties.sasl.jaas.config' = 'org.apache.kafka.common.security.plain.PlainLoginModule required password=\"s3cr;et\";',",
      "  'Password'='it''s'",
      ');',
      "INSERT INTO k SELECT 1 WHERE 'password' = 'not an option';",
    ].join('\n');
    const masked = maskSensitiveOptions(script);
    assert.equal(
      masked,
      [
        'CREATE TEMPORARY TABLE k (a INT) WITH (',
        "  'connector' = 'kafka',",
        "  'properties.sasl.jaas.config' = '***',",
        "  'Password'='***'",
        ');',
        "INSERT INTO k SELECT 1 WHERE 'password' = 'not an option';",
      ].join('\n'),
    );
  });

  it('masks the value of a sensitive SET key and leaves comments and strings that only look like options alone', () => {
    const script = "-- WITH ('password' = 'in a comment')\nSET 'fs.azure.account.key.a.blob.core.windows.net' = 'K3y==';\nSELECT 'WITH (''token'' = ''x'')';";
    assert.equal(maskSensitiveOptions(script), "-- WITH ('password' = 'in a comment')\nSET 'fs.azure.account.key.a.blob.core.windows.net' = '***';\nSELECT 'WITH (''token'' = ''x'')';");
  });

  it('masks every line of a value continued over several lines (Flink joins string literals separated by a line break)', () => {
    const script = [
      'CREATE TEMPORARY TABLE k (a INT) WITH (',
      "  'properties.sasl.jaas.config' = 'org.apache.kafka.common.security.plain.PlainLoginModule required '",
      "    -- the credentials",
      "    'username=\"u\" password=\"s3cret\";',",
      "  'connector' = 'kafka'",
      ');',
    ].join('\n');
    assert.equal(
      maskSensitiveOptions(script),
      ['CREATE TEMPORARY TABLE k (a INT) WITH (', "  'properties.sasl.jaas.config' = '***'", '    -- the credentials', "    '***',", "  'connector' = 'kafka'", ');'].join('\n'),
    );
  });

  it("masks a sensitive value in a hint's dynamic table options, and leaves other comments alone", () => {
    const script = "INSERT INTO snk SELECT * FROM src /*+ OPTIONS('password' = 'h1nt-s3cret', 'scan.startup.mode' = 'earliest') */;\n/* OPTIONS('password' = 'not a hint') */";
    assert.equal(
      maskSensitiveOptions(script),
      "INSERT INTO snk SELECT * FROM src /*+ OPTIONS('password' = '***', 'scan.startup.mode' = 'earliest') */;\n/* OPTIONS('password' = 'not a hint') */",
    );
  });

  it('masks the options of a WITH after comments and line breaks', () => {
    assert.equal(maskSensitiveOptions("WITH /* opts */\n(\n 'token' -- t\n = 'abc')"), "WITH /* opts */\n(\n 'token' -- t\n = '***')");
  });
});

describe('diffScripts', () => {
  const before = ['-- v1', 'CREATE TEMPORARY TABLE a (x INT);', 'CREATE TEMPORARY TABLE b (x INT);', 'line 4', 'line 5', 'line 6', 'line 7', 'line 8', 'INSERT INTO b', 'SELECT x FROM a;'].join('\n');

  it('is empty for the same lines, whatever the line endings', () => {
    assert.deepEqual(diffScripts(before, `${before.replace(/\n/g, '\r\n')}\r\n`), []);
  });

  it('shows a changed line as - and + with three lines of context and unified-diff line numbers', () => {
    const after = before.replace('SELECT x FROM a;', 'SELECT x * 2 FROM a;');
    assert.deepEqual(diffScripts(before, after), ['@@ -7,4 +7,4 @@', ' line 7', ' line 8', ' INSERT INTO b', '-SELECT x FROM a;', '+SELECT x * 2 FROM a;']);
  });

  it('keeps distant changes in separate hunks and near ones together', () => {
    const after = before.replace('-- v1', '-- v2').replace('INSERT INTO b', 'INSERT INTO c');
    const diff = diffScripts(before, after, { contextLines: 1 });
    assert.deepEqual(diff, ['@@ -1,2 +1,2 @@', '--- v1', '+-- v2', ' CREATE TEMPORARY TABLE a (x INT);', '@@ -8,3 +8,3 @@', ' line 8', '-INSERT INTO b', '+INSERT INTO c', ' SELECT x FROM a;']);
  });

  it('shows added and removed lines against an empty script', () => {
    assert.deepEqual(diffScripts('', 'a\nb\n'), ['@@ -0,0 +1,2 @@', '+a', '+b']);
    assert.deepEqual(diffScripts('a\n', ''), ['@@ -1,1 +0,0 @@', '-a']);
  });

  it('finds the lines kept between an insertion and a removal', () => {
    assert.deepEqual(diffScripts('a\nb\nc\nd', 'a\nx\nb\nd', { contextLines: 0 }), ['@@ -1,0 +2,1 @@', '+x', '@@ -3,1 +3,0 @@', '-c']);
  });

  it('falls back to all removed then all added above the comparison budget, still correct', () => {
    assert.deepEqual(diffScripts('a\nb', 'c\nd', { maxComparisons: 1 }), ['@@ -1,2 +1,2 @@', '-a', '-b', '+c', '+d']);
  });
});
