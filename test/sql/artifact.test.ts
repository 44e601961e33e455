/**
 * The artifact helpers: reading a deployment's artifact, comparing, the value a write sends,
 * how logs name it, and the refused JAR ↔ SQL switch.
 */
import assert from 'node:assert/strict';
import { buildPatchBody } from '../../tasks/common/vvp/deployment-spec';
import { describe, it } from 'node:test';
import {
  artifactKindSwitch,
  artifactOfSpec,
  describeArtifact,
  sameArtifact,
  type ArtifactContent,
  type DeployArtifact,
  type SpecArtifact,
} from '../../tasks/common/vvp/artifact';

const JAR = 'wasbs://vvp@acct.blob.core.windows.net/artifacts/namespaces/default/app.jar?commit=abc1234';
const UDF = 'wasbs://vvp@acct.blob.core.windows.net/artifacts/namespaces/default/udf-0123456789ab.jar';
const SCRIPT = "CREATE TEMPORARY TABLE src (s VARCHAR) WITH ('connector' = 'datagen');\nINSERT INTO snk SELECT s FROM src;\n";

const withArtifact = (artifact: unknown): { spec: unknown } => ({ spec: { template: { spec: { artifact } } } });

describe('artifactOfSpec', () => {
  const cases: { what: string; spec: { spec?: unknown } | undefined; expected: SpecArtifact | undefined }[] = [
    { what: 'a JAR with dependencies', spec: withArtifact({ kind: 'JAR', jarUri: JAR, additionalDependencies: [UDF] }), expected: { kind: 'JAR', jarUri: JAR, additionalDependencies: [UDF] } },
    { what: 'a jarUri without a kind (VVP defaults to JAR)', spec: withArtifact({ jarUri: JAR }), expected: { kind: 'JAR', jarUri: JAR, additionalDependencies: [] } },
    { what: 'a SQL script, kind in lower case', spec: withArtifact({ kind: 'sqlscript', sqlScript: SCRIPT, additionalDependencies: [UDF, 7, null] }), expected: { kind: 'SQLSCRIPT', sqlScript: SCRIPT, additionalDependencies: [UDF] } },
    { what: 'a SQLSCRIPT without a script', spec: withArtifact({ kind: 'SQLSCRIPT' }), expected: { kind: 'SQLSCRIPT', sqlScript: '', additionalDependencies: [] } },
    { what: 'a Python artifact', spec: withArtifact({ kind: 'PYTHON', pythonArtifactUri: 's3://b/job.py' }), expected: { kind: 'OTHER', reported: 'PYTHON', additionalDependencies: [] } },
    { what: 'an artifact with neither kind nor jarUri', spec: withArtifact({ flinkVersion: '1.19' }), expected: undefined },
    { what: 'a deployment without an artifact', spec: { spec: { template: { spec: {} } } }, expected: undefined },
    { what: 'an artifact that is not an object', spec: withArtifact('JAR'), expected: undefined },
    { what: 'no deployment', spec: undefined, expected: undefined },
  ];
  for (const c of cases) {
    it(`reads ${c.what}`, () => {
      assert.deepEqual(artifactOfSpec(c.spec), c.expected);
    });
  }
});

describe('sameArtifact', () => {
  const jar: ArtifactContent = { kind: 'JAR', jarUri: JAR, additionalDependencies: [UDF] };
  const sql: ArtifactContent = { kind: 'SQLSCRIPT', sqlScript: SCRIPT, additionalDependencies: [] };
  const cases: { what: string; a: SpecArtifact | undefined; b: SpecArtifact | undefined; same: boolean }[] = [
    { what: 'the same JAR and dependencies', a: jar, b: { ...jar, additionalDependencies: [UDF] }, same: true },
    { what: 'the same script', a: sql, b: { ...sql }, same: true },
    { what: 'another commit of the JAR', a: jar, b: { ...jar, jarUri: JAR.replace('abc1234', 'def5678') }, same: false },
    { what: 'scripts that differ in line endings only', a: sql, b: { ...sql, sqlScript: SCRIPT.replace(/\n/g, '\r\n') }, same: false },
    { what: 'scripts that differ in a comment', a: sql, b: { ...sql, sqlScript: `-- v2\n${SCRIPT}` }, same: false },
    { what: 'dependencies in another order', a: { ...jar, additionalDependencies: [UDF, JAR] }, b: { ...jar, additionalDependencies: [JAR, UDF] }, same: false },
    { what: 'one dependency more', a: jar, b: { ...jar, additionalDependencies: [UDF, UDF] }, same: false },
    { what: 'a JAR and a SQL script', a: jar, b: sql, same: false },
    { what: 'two Python artifacts (what runs is unknown)', a: { kind: 'OTHER', reported: 'PYTHON', additionalDependencies: [] }, b: { kind: 'OTHER', reported: 'PYTHON', additionalDependencies: [] }, same: false },
    { what: 'nothing and a JAR', a: undefined, b: jar, same: false },
  ];
  for (const c of cases) {
    it(`says ${c.same ? 'same' : 'different'} for ${c.what}`, () => {
      assert.equal(sameArtifact(c.a, c.b), c.same);
      assert.equal(sameArtifact(c.b, c.a), c.same);
    });
  }
});

describe('the artifact a write sends (buildPatchBody)', () => {
  const sent = (artifact: ArtifactContent): Record<string, unknown> => (buildPatchBody(undefined, artifact) as { spec: { template: { spec: { artifact: Record<string, unknown> } } } }).spec.template.spec.artifact;

  it('sends a JAR without dependencies as its jarUri only (the body of 1.2)', () => {
    assert.equal(JSON.stringify(sent({ kind: 'JAR', jarUri: JAR, additionalDependencies: [] })), JSON.stringify({ jarUri: JAR }));
  });

  it('sends a SQL script unchanged with its dependencies in order', () => {
    const script = SCRIPT.replace(/\n/g, '\r\n');
    assert.deepEqual(sent({ kind: 'SQLSCRIPT', sqlScript: script, additionalDependencies: [UDF, JAR] }), { kind: 'SQLSCRIPT', sqlScript: script, additionalDependencies: [UDF, JAR] });
  });

  it('drops the SHA-256 and the file of a deployed script: VVP gets the artifact fields only', () => {
    const artifact: DeployArtifact = { kind: 'SQLSCRIPT', sqlScript: SCRIPT, sha256: 'ab'.repeat(32), file: '/w/sql/orders.sql', additionalDependencies: [] };
    assert.deepEqual(Object.keys(sent(artifact)), ['kind', 'sqlScript', 'additionalDependencies']);
  });

  it('gives a copy of the dependencies, so changing the body leaves the artifact as it was', () => {
    const artifact: ArtifactContent = { kind: 'JAR', jarUri: JAR, additionalDependencies: [UDF] };
    (sent(artifact).additionalDependencies as string[]).push('x');
    assert.deepEqual(artifact.additionalDependencies, [UDF]);
  });
});

describe('describeArtifact', () => {
  it('names a JAR by its jarUri with query credentials masked and the commit kept', () => {
    const sas = 'https://acct.blob.core.windows.net/vvp/app.jar?sv=2022-11-02&sig=c2VjcmV0LXNpZ25hdHVyZQ%3D%3D&commit=abc1234';
    assert.equal(describeArtifact({ kind: 'JAR', jarUri: sas, additionalDependencies: [] }), 'https://acct.blob.core.windows.net/vvp/app.jar?sv=***&sig=***&commit=abc1234');
  });

  it('names a SQL script by file name, short SHA-256 and statement count, never by its text', () => {
    const sha = '0123456789abcdef'.repeat(4);
    const text = describeArtifact({ kind: 'SQLSCRIPT', sqlScript: `${SCRIPT}`, sha256: sha, file: '/agent/_work/1/s/sql/orders.sql', additionalDependencies: [] });
    assert.equal(text, 'SQL script orders.sql (sha256 0123456789ab, 2 statements)');
  });

  it('counts a STATEMENT SET block as one statement', () => {
    const script = 'CREATE TEMPORARY TABLE t (a INT);\nBEGIN STATEMENT SET;\nINSERT INTO a SELECT 1;\nINSERT INTO b SELECT 2;\nEND;\n';
    assert.match(describeArtifact({ kind: 'SQLSCRIPT', sqlScript: script, sha256: 'f'.repeat(64), file: 'x.sql', additionalDependencies: [] }), /, 2 statements\)$/);
  });

  it('counts lines when the script has no statement', () => {
    assert.match(describeArtifact({ kind: 'SQLSCRIPT', sqlScript: '-- todo\n-- later', sha256: 'f'.repeat(64), file: 'x.sql', additionalDependencies: [] }), /, 2 lines\)$/);
    assert.match(describeArtifact({ kind: 'SQLSCRIPT', sqlScript: 'SELECT 1', sha256: 'f'.repeat(64), file: 'x.sql', additionalDependencies: [] }), /, 1 statement\)$/);
  });
});

describe('artifactKindSwitch', () => {
  const jar: ArtifactContent = { kind: 'JAR', jarUri: JAR, additionalDependencies: [] };
  const sql: ArtifactContent = { kind: 'SQLSCRIPT', sqlScript: SCRIPT, additionalDependencies: [] };

  it('allows a change within a kind and a deployment without an artifact', () => {
    assert.equal(artifactKindSwitch(jar, { ...jar, jarUri: `${JAR}x` }), undefined);
    assert.equal(artifactKindSwitch(sql, { ...sql, sqlScript: `-- v2\n${SCRIPT}` }), undefined);
    assert.equal(artifactKindSwitch(undefined, sql), undefined);
  });

  it('refuses JAR → SQL, saying a merge PATCH would keep jarUri and entryClass, and what to do', () => {
    const message = artifactKindSwitch(jar, sql) ?? '';
    assert.match(message, /^The deployment is a JAR deployment \(artifact kind JAR\) and this step deploys a SQL script \(kind SQLSCRIPT\)\./);
    assert.match(message, /merges a PATCH .*would keep jarUri, entryClass and mainArgs/);
    assert.match(message, /new deployment .*or delete this one \(action: delete\)/);
  });

  it('refuses SQL → JAR, naming the sqlScript a merge would keep', () => {
    assert.match(artifactKindSwitch(sql, jar) ?? '', /is a SQL deployment \(artifact kind SQLSCRIPT\) and this step deploys a JAR \(kind JAR\)\..*would keep sqlScript/);
  });

  it('refuses turning a Python deployment into a SQL one', () => {
    assert.match(artifactKindSwitch({ kind: 'OTHER', reported: 'python', additionalDependencies: [] }, sql) ?? '', /a deployment of artifact kind PYTHON .*a SQL script/);
  });
});
