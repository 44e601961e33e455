/**
 * parseDeployInputs for SQL deployments: sqlScriptFile (path or one-file glob, UTF-8 without BOM,
 * SHA-256 of the text sent), additionalDependencies, sqlCatalog / sqlDatabase, and the rules
 * between jarUri, sqlScriptFile and the spec file.
 */
import assert from 'node:assert/strict';
import { inputProblems } from './input-problems';
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { InputError } from '../../tasks/common/errors/errors';
import { sqlScriptSha256, type ScriptFileAccess } from '../../tasks/common/sql/script-input';
import { parseDeployInputs, type InputContext } from '../../tasks/VvpDeploy/VvpDeployV1/inputs';

const ROOT = path.resolve('/agent/_work/1/s');
const JAR = 'wasbs://vvp@acct.blob.core.windows.net/artifacts/namespaces/default/app.jar';
const UDF = 'wasbs://vvp@acct.blob.core.windows.net/artifacts/namespaces/default/udf-0123456789ab.jar';
const SHA = '0123456789abcdef0123456789abcdef01234567';
const SCRIPT = "CREATE TEMPORARY TABLE src (s VARCHAR) WITH ('connector' = 'datagen');\r\nINSERT INTO snk SELECT s FROM src;\r\n";

const BASE: Record<string, string> = {
  azureSubscription: 'arm',
  keyVaultName: 'my-keyvault',
  vvpUrl: 'https://vvp.example.com',
  deployment: 'orders',
};

/** Files by path relative to ROOT (bytes or UTF-8 text); folders are ROOT and any path ending in '/'. */
function context(files: Record<string, string | Uint8Array> = {}): InputContext & Pick<ScriptFileAccess, 'findFiles'> {
  const vars: Record<string, string> = { 'Build.SourceVersion': SHA, 'System.DefaultWorkingDirectory': ROOT, 'Build.SourcesDirectory': ROOT };
  const entry = (file: string): string | Uint8Array | undefined => files[path.relative(ROOT, file).split(path.sep).join('/')];
  const missing = (file: string): Error => Object.assign(new Error(`ENOENT: ${file}`), { code: 'ENOENT' });
  return {
    readVariable: (name) => vars[name],
    readTextFile: (file) => {
      const content = entry(file);
      if (content === undefined) throw missing(file);
      return typeof content === 'string' ? content : Buffer.from(content).toString('utf8');
    },
    readFile: (file) => {
      const content = entry(file);
      if (content === undefined) throw missing(file);
      return typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    },
    isDirectory: (file) => file === ROOT || Object.keys(files).some((f) => f.endsWith('/') && path.resolve(ROOT, f) === file),
    // A small matcher for the tests: `*` within one path segment, over the files given.
    findFiles: (root, [pattern]) => {
      const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*\*\//g, '(.*/)?').replace(/\*/g, '[^/]*')}$`);
      return Object.keys(files)
        .map((f) => f.replace(/\/$/, ''))
        .filter((f) => re.test(f))
        .map((f) => path.join(root, f));
    },
  };
}

function parse(inputs: Record<string, string | undefined>, ctx = context()) {
  return parseDeployInputs((name) => inputs[name], ctx);
}

/** The InputError's problems as `input: expected` lines. */
function problems(inputs: Record<string, string | undefined>, ctx = context()): string[] {
  return inputProblems(() => parse(inputs, ctx));
}

describe('parseDeployInputs for SQL deployments', () => {
  it('reads sqlScriptFile as the SQLSCRIPT artifact: text as in the file, its SHA-256, the absolute path, jarUri empty', () => {
    const config = parse({ ...BASE, sqlScriptFile: 'sql/orders.sql' }, context({ 'sql/orders.sql': SCRIPT }));
    assert.deepEqual(config.artifact, {
      kind: 'SQLSCRIPT',
      sqlScript: SCRIPT,
      sha256: createHash('sha256').update(SCRIPT, 'utf8').digest('hex'),
      file: path.join(ROOT, 'sql', 'orders.sql'),
      additionalDependencies: [],
    });
    assert.equal(config.jarUri, '');
    assert.deepEqual(config.jarUriSecrets, []);
    assert.equal(config.sqlCatalog, undefined);
    assert.equal(config.sqlDatabase, undefined);
  });

  it('removes a UTF-8 BOM and hashes the text without it, multi-byte characters as UTF-8', () => {
    const text = "INSERT INTO snk SELECT 'Zürich — 東京' FROM src;\n";
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')]);
    const config = parse({ ...BASE, sqlScriptFile: 'orders.sql' }, context({ 'orders.sql': bytes }));
    assert.equal(config.artifact.kind === 'SQLSCRIPT' && config.artifact.sqlScript, text);
    assert.equal(config.artifact.kind === 'SQLSCRIPT' && config.artifact.sha256, createHash('sha256').update(Buffer.from(text, 'utf8')).digest('hex'));
    assert.equal(sqlScriptSha256(text), createHash('sha256').update(Buffer.from(text, 'utf8')).digest('hex'));
  });

  it('resolves a glob that matches exactly one file', () => {
    const config = parse({ ...BASE, sqlScriptFile: 'sql/*.sql' }, context({ 'sql/orders.sql': SCRIPT, 'sql/README.md': '#' }));
    assert.equal(config.artifact.kind === 'SQLSCRIPT' && config.artifact.file, path.join(ROOT, 'sql', 'orders.sql'));
  });

  const refused: { what: string; value: string; files: Record<string, string | Uint8Array>; expected: RegExp }[] = [
    { what: 'a missing file', value: 'sql/orders.sql', files: {}, expected: /^sqlScriptFile: a readable \.sql file: no such file/ },
    { what: 'a folder', value: 'sql', files: { 'sql/': '' }, expected: /^sqlScriptFile: a \.sql file, not a folder$/ },
    { what: 'a glob matching two files', value: 'sql/*.sql', files: { 'sql/a.sql': SCRIPT, 'sql/b.sql': SCRIPT }, expected: /matching exactly one \.sql file .*but it matched 2: sql\/a\.sql, sql\/b\.sql/ },
    { what: 'a glob matching nothing', value: 'sql/*.sql', files: { 'sql/orders.txt': SCRIPT }, expected: /but it matched no file$/ },
    { what: 'a glob matching a folder only', value: '*', files: { 'sql/': '' }, expected: /matched no file \(only folders: sql\)/ },
    { what: 'a file that is not UTF-8', value: 'orders.sql', files: { 'orders.sql': Buffer.from([0x49, 0x4e, 0x0a, 0x61, 0xe9, 0x62]) }, expected: /a UTF-8 text file: orders\.sql is not valid UTF-8 \(first broken character at line 2, column 2\); save it as UTF-8/ },
  ];
  for (const c of refused) {
    it(`refuses ${c.what} as an input error naming sqlScriptFile`, () => {
      const found = problems({ ...BASE, sqlScriptFile: c.value }, context(c.files));
      assert.equal(found.length, 1, found.join('\n'));
      assert.match(found[0], c.expected);
    });
  }

  it('refuses jarUri and sqlScriptFile together', () => {
    assert.deepEqual(problems({ ...BASE, jarUri: JAR, sqlScriptFile: 'orders.sql' }, context({ 'orders.sql': SCRIPT })), [
      'sqlScriptFile: is not allowed together with jarUri: give jarUri for a JAR deployment or sqlScriptFile for a SQL deployment, not both',
    ]);
  });

  it('asks for jarUri or sqlScriptFile when deploy or plan has neither', () => {
    for (const action of ['deploy', 'plan']) {
      const found = problems({ ...BASE, action });
      assert.equal(found.length, 1);
      assert.match(found[0], /^jarUri: is required: .*or give sqlScriptFile for a SQL deployment$/);
    }
  });

  it('treats an empty sqlScriptFile (the agent passes the repository root) as not given', () => {
    const config = parse({ ...BASE, jarUri: JAR, sqlScriptFile: ROOT });
    assert.equal(config.artifact.kind, 'JAR');
  });

  it('ignores sqlScriptFile and additionalDependencies for lifecycle actions, which write no artifact', () => {
    const config = parse({ ...BASE, action: 'suspend', sqlScriptFile: 'missing.sql', additionalDependencies: UDF });
    assert.deepEqual(config.artifact, { kind: 'JAR', jarUri: '', additionalDependencies: [] });
  });

  it('keeps a JAR deployment as before and adds its artifact with the committed jarUri', () => {
    const config = parse({ ...BASE, jarUri: JAR, commitId: '$(Build.SourceVersion)' });
    assert.equal(config.jarUri, `${JAR}?commit=${SHA}`);
    assert.deepEqual(config.artifact, { kind: 'JAR', jarUri: `${JAR}?commit=${SHA}`, additionalDependencies: [] });
  });

  it('reads additionalDependencies one URI per line, blank lines skipped, for JAR and SQL deployments', () => {
    const deps = `${UDF}\n\n  s3://bucket/connectors/kafka.jar  \n`;
    assert.deepEqual(parse({ ...BASE, jarUri: JAR, additionalDependencies: deps }).artifact.additionalDependencies, [UDF, 's3://bucket/connectors/kafka.jar']);
    const sql = parse({ ...BASE, sqlScriptFile: 'orders.sql', additionalDependencies: deps }, context({ 'orders.sql': SCRIPT }));
    assert.deepEqual(sql.artifact.additionalDependencies, [UDF, 's3://bucket/connectors/kafka.jar']);
  });

  it('refuses a dependency that is not an absolute URI, masking its query', () => {
    const found = problems({ ...BASE, jarUri: JAR, additionalDependencies: `${UDF}\nudf.jar\nhttps://x/y z.jar?sig=topsecretvalue` });
    assert.equal(found.length, 2);
    assert.match(found[0], /^additionalDependencies: one absolute URI per line/);
    try {
      parse({ ...BASE, jarUri: JAR, additionalDependencies: 'https://x/y z.jar?sig=topsecretvalue' });
    } catch (e) {
      assert.ok(e instanceof InputError);
      assert.doesNotMatch(e.message, /topsecretvalue/);
      assert.match(e.message, /sig=\*\*\*/);
    }
  });

  it('registers credentials in the query of dependencies as secrets, like the jarUri', () => {
    const sas = 'https://acct.blob.core.windows.net/vvp/udf.jar?sv=2022-11-02&sig=c2VjcmV0LXNpZ25hdHVyZQ';
    const config = parse({ ...BASE, sqlScriptFile: 'orders.sql', additionalDependencies: sas }, context({ 'orders.sql': SCRIPT }));
    assert.deepEqual(config.jarUriSecrets, ['c2VjcmV0LXNpZ25hdHVyZQ']);
  });

  it('reads sqlCatalog and sqlDatabase', () => {
    const config = parse({ ...BASE, sqlScriptFile: 'orders.sql', sqlCatalog: ' vvp ', sqlDatabase: 'orders' }, context({ 'orders.sql': SCRIPT }));
    assert.equal(config.sqlCatalog, 'vvp');
    assert.equal(config.sqlDatabase, 'orders');
  });

  it('keeps a spec file with a SQL deployment, and refuses one that sets an artifact of its own', () => {
    const spec = 'spec:\n  template:\n    spec:\n      parallelism: 2\n      artifact:\n        kind: SQLSCRIPT\n';
    const config = parse({ ...BASE, sqlScriptFile: 'orders.sql', deploymentSpecFile: 'd.yaml' }, context({ 'orders.sql': SCRIPT, 'd.yaml': spec }));
    assert.equal(config.specFile?.path, path.join(ROOT, 'd.yaml'));
    const jarSpec = `spec:\n  template:\n    spec:\n      artifact:\n        kind: JAR\n        jarUri: ${JAR}\n`;
    assert.deepEqual(problems({ ...BASE, sqlScriptFile: 'orders.sql', deploymentSpecFile: 'd.yaml' }, context({ 'orders.sql': SCRIPT, 'd.yaml': jarSpec })), [
      'deploymentSpecFile: a Deployment without an artifact of its own when sqlScriptFile is given (the step sets spec.template.spec.artifact to the SQL script): remove jarUri, kind JAR from spec.template.spec.artifact',
    ]);
  });
});
