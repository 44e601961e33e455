import assert from 'node:assert/strict';
import { inputProblems } from './input-problems';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { InputError } from '../../tasks/common/errors/errors';
import { parseDeployInputs, type InputContext } from '../../tasks/VvpDeploy/VvpDeployV1/inputs';

const ROOT = path.resolve('/agent/_work/1/s');
const JAR = 'wasbs://vvp@acct.blob.core.windows.net/artifacts/namespaces/default/app.jar';
const SHA = '0123456789abcdef0123456789abcdef01234567';

const MINIMAL: Record<string, string> = {
  azureSubscription: 'arm',
  keyVaultName: 'my-keyvault',
  vvpUrl: 'https://vvp.example.com',
  deployment: 'top-speed-windowing',
  jarUri: JAR,
};

function context(files: Record<string, string> = {}, variables: Record<string, string> = {}): InputContext {
  const vars: Record<string, string> = { 'Build.SourceVersion': SHA, 'System.DefaultWorkingDirectory': ROOT, 'Build.SourcesDirectory': ROOT, ...variables };
  return {
    readVariable: (name) => vars[name],
    readTextFile,
    readFile: (file) => Buffer.from(readTextFile(file), 'utf8'),
    isDirectory: (file) => file === ROOT,
  };

  function readTextFile(file: string): string {
    const content = files[path.relative(ROOT, file)];
    if (content === undefined) throw Object.assign(new Error(`ENOENT: ${file}`), { code: 'ENOENT' });
    return content;
  }
}

function parse(inputs: Record<string, string | undefined>, ctx = context()) {
  return parseDeployInputs((name) => inputs[name], ctx);
}

/** The InputError's problems as `input: expected` lines. */
function problems(inputs: Record<string, string | undefined>, ctx = context()): string[] {
  return inputProblems(() => parse(inputs, ctx));
}

describe('parseDeployInputs', () => {
  it("takes the Ververica Platform service connection's namespace when namespace is not given or is the task's default; another namespace wins", () => {
    const viaConnection = { deployment: 'top-speed-windowing', jarUri: JAR, tokenSource: 'serviceConnection', vvpServiceConnection: 'conn-1' };
    const asked: string[] = [];
    const ctx = { ...context(), readConnectionNamespace: (id: string) => (asked.push(id), 'team-a') };
    assert.equal(parse(viaConnection, ctx).namespace, 'team-a');
    assert.deepEqual(asked, ['conn-1']);
    assert.equal(parse({ ...viaConnection, namespace: 'team-b' }, ctx).namespace, 'team-b');
    // The agent sets the task.json default when the step names no namespace.
    assert.equal(parse({ ...viaConnection, namespace: 'default' }, ctx).namespace, 'team-a');
    assert.equal(parse(viaConnection, { ...context(), readConnectionNamespace: () => undefined }).namespace, 'default');
    // A Key Vault token has no connection namespace.
    assert.equal(parse(MINIMAL, ctx).namespace, 'default');
    assert.deepEqual(problems(viaConnection, { ...context(), readConnectionNamespace: () => 'Team_A' }), [
      "namespace: a VVP namespace name: lower-case letters, digits and hyphens, starting and ending with a letter or digit, at most 63 characters (taken from the Ververica Platform service connection: set namespace on the step or fix the connection)",
    ]);
  });

  it('applies the documented defaults', () => {
    // The agent gives an omitted commitId its default, $(Build.SourceVersion), expanded.
    const c = parse({ ...MINIMAL, commitId: SHA });
    assert.equal(c.namespace, 'default');
    assert.equal(c.tokenSecretName, 'vvpAPIToken');
    assert.equal(c.createIfMissing, true);
    assert.equal(c.waitForRunning, true);
    assert.equal(c.rollbackOnFailure, false);
    assert.equal(c.timeoutInMs, 15 * 60_000);
    assert.equal(c.pollIntervalInMs, 5000);
    assert.equal(c.jarUri, `${JAR}?commit=${SHA}`);
    assert.equal(c.vvpUrl?.href, 'https://vvp.example.com/');
    assert.deepEqual(c.access, { token: { kind: 'keyVault' } });
    assert.equal(c.deploymentIsId, false);
    assert.equal(c.specFile, undefined);
  });

  it('lists every bad input at once, with its value and the accepted form', () => {
    let error: unknown;
    try {
      parse({
        azureSubscription: 'arm',
        keyVaultName: '1kv',
        tokenSecretName: 'bad_name',
        vvpUrl: 'http://vvp.example.com',
        namespace: 'Default',
        deployment: 'Top_Speed',
        jarUri: 'app.jar',
        createIfMissing: 'yes',
        waitForRunning: 'TRUE',
        rollbackOnFailure: '1',
        timeoutMinutes: '0',
        pollIntervalSeconds: '301',
        deploymentTargetId: 'target',
      });
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof InputError);
    const inputs = error.problems.map((p) => p.input);
    assert.deepEqual(inputs.sort(), [
      'createIfMissing', 'deployment', 'deploymentTargetId', 'jarUri', 'keyVaultName', 'namespace', 'pollIntervalSeconds', 'rollbackOnFailure', 'timeoutMinutes', 'tokenSecretName', 'vvpUrl',
    ].sort());
    assert.match(error.message, /input 'timeoutMinutes' '0': a number from 0.1 to 360 \(decimals allowed, e.g. 0.5\)/);
    assert.match(error.message, /input 'createIfMissing' 'yes': true or false/);
    assert.match(error.message, /input 'vvpUrl' 'http:\/\/vvp.example.com': an https:\/\/ URL/);
  });

  it('accepts booleans case-insensitively but strictly', () => {
    assert.equal(parse({ ...MINIMAL, waitForRunning: 'FALSE', rollbackOnFailure: 'True' }).waitForRunning, false);
    assert.deepEqual(problems({ ...MINIMAL, waitForRunning: 'no' }), ['waitForRunning: true or false']);
  });

  const urls: [string, boolean][] = [
    ['https://vvp.example.com', true],
    ['https://vvp.example.com/vvp/', true],
    ['http://localhost:8080', true],
    ['http://127.0.0.1:8080', true],
    ['http://127.1.2.3', true],
    ['http://[::1]:8080', true],
    ['http://vvp.internal:8080', false],
    ['ftp://vvp.example.com', false],
    ['vvp.example.com', false],
    ['https://user:pw@vvp.example.com', false],
    ['https://vvp.example.com/?x=1', false],
    ['https://vvp.example.com/#/app', false],
  ];
  for (const [url, ok] of urls) {
    it(`${ok ? 'accepts' : 'rejects'} vvpUrl ${url}`, () => {
      if (ok) assert.ok(parse({ ...MINIMAL, vvpUrl: url }).vvpUrl instanceof URL);
      else assert.equal(problems({ ...MINIMAL, vvpUrl: url })[0].split(':')[0], 'vvpUrl');
    });
  }

  it('never echoes credentials of a vvpUrl', () => {
    const error = (() => {
      try {
        parse({ ...MINIMAL, vvpUrl: 'https://user:s3cret@vvp.example.com' });
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    assert.ok(error && !error.message.includes('s3cret'));
  });

  it('strips the trailing slash of a vvpUrl path', () => {
    assert.equal(parse({ ...MINIMAL, vvpUrl: 'https://h/vvp/' }).vvpUrl?.pathname, '/vvp');
  });

  const names: [string, string, boolean][] = [
    ['deployment', 'a', true],
    ['deployment', 'top-speed-windowing', true],
    ['deployment', 'a'.repeat(63), true],
    ['deployment', 'a'.repeat(64), false],
    ['deployment', '-a', false],
    ['deployment', 'a-', false],
    ['deployment', 'A', false],
    ['deployment', 'd320ec04-16f5-4915-b236-6efa43b7e003', true],
    ['namespace', 'team-a', true],
    ['namespace', 'Team', false],
    ['keyVaultName', 'kv1', true],
    ['keyVaultName', 'my-keyvault-0123456789ab', true],
    ['keyVaultName', 'my-keyvault-0123456789abc', false],
    ['keyVaultName', 'kv', false],
    ['keyVaultName', '1kv', false],
    ['keyVaultName', 'kv-', false],
    ['keyVaultName', 'k--v', false],
    ['tokenSecretName', 'vvp-API-token-1', true],
    ['tokenSecretName', 'vvp_token', false],
    ['tokenSecretName', 'a'.repeat(128), false],
  ];
  for (const [input, value, ok] of names) {
    it(`${ok ? 'accepts' : 'rejects'} ${input} '${value.length > 30 ? `${value.slice(0, 10)}…(${value.length})` : value}'`, () => {
      if (ok) parse({ ...MINIMAL, [input]: value });
      else assert.deepEqual(problems({ ...MINIMAL, [input]: value }).map((p) => p.split(':')[0]), [input]);
    });
  }

  it('recognises a deployment id', () => {
    assert.equal(parse({ ...MINIMAL, deployment: 'D320EC04-16F5-4915-B236-6EFA43B7E003' }).deploymentIsId, true);
  });

  it('accepts the number ranges at their bounds', () => {
    const low = parse({ ...MINIMAL, timeoutMinutes: '1', pollIntervalSeconds: '1' });
    assert.deepEqual([low.timeoutInMs, low.pollIntervalInMs], [60_000, 1000]);
    const high = parse({ ...MINIMAL, timeoutMinutes: '360', pollIntervalSeconds: '300' });
    assert.deepEqual([high.timeoutInMs, high.pollIntervalInMs], [360 * 60_000, 300_000]);
    assert.equal(parse({ ...MINIMAL, timeoutMinutes: '0.5' }).timeoutInMs, 30_000);
    assert.equal(parse({ ...MINIMAL, timeoutMinutes: '1.5' }).timeoutInMs, 90_000);
    for (const bad of ['0.05', '1e3', '0x10', '361', '1,5', 'NaN']) assert.equal(problems({ ...MINIMAL, timeoutMinutes: bad }).length, 1, bad);
    assert.equal(problems({ ...MINIMAL, pollIntervalSeconds: '1.5' }).length, 1);
    assert.equal(problems({ ...MINIMAL, pollIntervalSeconds: 'five' }).length, 1);
  });

  describe('commitId', () => {
    it('uses the expanded default $(Build.SourceVersion) the agent passes for an omitted input', () =>
      assert.equal(parse({ ...MINIMAL, commitId: SHA }).jarUri, `${JAR}?commit=${SHA}`));
    it("sends the jarUri exactly as given for commitId: '' (task-lib stores no empty INPUT_ value, so the input is absent)", () => {
      const c = parse({ ...MINIMAL, jarUri: `${JAR}?commit=kept` });
      assert.equal(c.jarUri, `${JAR}?commit=kept`);
    });
    it('uses the input when given', () => assert.equal(parse({ ...MINIMAL, commitId: 'abc1234' }).jarUri, `${JAR}?commit=abc1234`));
    it('appends nothing when the input is empty', () => {
      const c = parse({ ...MINIMAL, commitId: '' });
      assert.equal(c.jarUri, JAR);
    });
    it('resolves an unexpanded $(Build.SourceVersion) macro, or appends nothing when the variable is missing', () => {
      assert.equal(parse({ ...MINIMAL, commitId: '$(Build.SourceVersion)' }).jarUri, `${JAR}?commit=${SHA}`);
      const ctx = context({}, {});
      const noSha: InputContext = { ...ctx, readVariable: (n) => (n === 'Build.SourceVersion' ? undefined : ctx.readVariable(n)) };
      assert.equal(parse({ ...MINIMAL, commitId: '$(Build.SourceVersion)' }, noSha).jarUri, JAR);
    });
    it('replaces a commit parameter already in the jarUri', () => {
      assert.equal(parse({ ...MINIMAL, jarUri: `${JAR}?commit=old`, commitId: 'new' }).jarUri, `${JAR}?commit=new`);
    });
    it('rejects a commit id with spaces or slashes', () => {
      assert.deepEqual(problems({ ...MINIMAL, commitId: 'a b' }).map((p) => p.split(':')[0]), ['commitId']);
      assert.deepEqual(problems({ ...MINIMAL, commitId: 'refs/heads/main' }).map((p) => p.split(':')[0]), ['commitId']);
    });
  });

  describe('deploymentSpecFile', () => {
    const yamlSpec = 'kind: Deployment\nmetadata:\n  name: top-speed-windowing\nspec:\n  deploymentTargetId: DEPLOYMENTTARGETID\n  template:\n    spec:\n      artifact:\n        kind: JAR\n        jarUri: JARURI\n';
    const target = 'c2f1a1a4-1b7e-4c65-9d1b-0d9a3a1f2b3c';

    it('reads a YAML file relative to the working directory and replaces both tokens', () => {
      const c = parse({ ...MINIMAL, deploymentSpecFile: 'vvp/deployment.yaml', deploymentTargetId: target }, context({ 'vvp/deployment.yaml': yamlSpec }));
      assert.equal(c.specFile?.path, path.join(ROOT, 'vvp/deployment.yaml'));
      const spec = c.specFile?.document.spec as any;
      assert.equal(spec.deploymentTargetId, target);
      assert.equal(spec.template.spec.artifact.jarUri, JAR);
    });

    it('reads a JSON file', () => {
      const c = parse({ ...MINIMAL, deploymentSpecFile: 'd.json' }, context({ 'd.json': '{"spec":{"template":{"spec":{"parallelism":3}}}}' }));
      assert.equal((c.specFile?.document.spec as any).template.spec.parallelism, 3);
    });

    it('takes the jarUri from the file when the input is empty, and still appends ?commit=', () => {
      const file = 'spec:\n  template:\n    spec:\n      artifact:\n        jarUri: wasbs://c@a.blob.core.windows.net/x.jar\n';
      const c = parse({ ...MINIMAL, commitId: SHA, jarUri: '', deploymentSpecFile: 'd.yaml' }, context({ 'd.yaml': file }));
      assert.equal(c.jarUri, `wasbs://c@a.blob.core.windows.net/x.jar?commit=${SHA}`);
    });

    it('gives every JARURI token the committed jarUri, the same value as artifact.jarUri', () => {
      const file = 'metadata:\n  annotations:\n    artifact: JARURI\nspec:\n  template:\n    spec:\n      artifact:\n        jarUri: JARURI\n';
      const c = parse({ ...MINIMAL, commitId: 'abc1234', deploymentSpecFile: 'd.yaml' }, context({ 'd.yaml': file }));
      const doc = c.specFile?.document as any;
      assert.equal(doc.metadata.annotations.artifact, `${JAR}?commit=abc1234`);
      assert.equal(doc.spec.template.spec.artifact.jarUri, `${JAR}?commit=abc1234`);
      assert.equal(c.jarUri, `${JAR}?commit=abc1234`);
    });

    it('requires the jarUri input when the file uses the JARURI token', () => {
      const p = problems({ ...MINIMAL, jarUri: undefined, deploymentSpecFile: 'd.yaml', deploymentTargetId: target }, context({ 'd.yaml': yamlSpec }));
      assert.ok(p.some((l) => /^jarUri: is required: the deployment spec file d.yaml contains the token JARURI/.test(l)), p.join('\n'));
    });

    it('requires deploymentTargetId when the file uses the DEPLOYMENTTARGETID token', () => {
      const p = problems({ ...MINIMAL, deploymentSpecFile: 'd.yaml' }, context({ 'd.yaml': yamlSpec }));
      assert.deepEqual(p.map((l) => l.split(':')[0]), ['deploymentTargetId']);
    });

    it('is fine without placeholders when the inputs are absent', () => {
      parse({ ...MINIMAL, deploymentSpecFile: 'd.yaml' }, context({ 'd.yaml': 'spec:\n  state: RUNNING\n' }));
    });

    it('requires a real URI as the file jarUri', () => {
      const p = problems({ ...MINIMAL, jarUri: '', deploymentSpecFile: 'd.yaml' }, context({ 'd.yaml': 'spec:\n  template:\n    spec:\n      artifact:\n        jarUri: app.jar\n' }));
      assert.match(p.join('\n'), /deploymentSpecFile: spec.template.spec.artifact.jarUri 'app.jar' is not an absolute URI/);
    });

    it('requires a jarUri somewhere', () => {
      assert.match(problems({ ...MINIMAL, jarUri: '' }).join('\n'), /^jarUri: is required/);
      assert.match(problems({ ...MINIMAL, jarUri: '', deploymentSpecFile: 'd.yaml' }, context({ 'd.yaml': 'spec: {}\n' })).join('\n'), /^jarUri: is required unless deploymentSpecFile sets/);
    });

    const broken: [string, string | undefined, RegExp][] = [
      ['a missing file', undefined, /no such file/],
      ['a file that is not YAML', 'spec: [\n', /not valid YAML or JSON at line/],
      ['a file that is not an object', '- 1\n', /top level is a list/],
      ['an empty file', '', /empty/],
      ['a file for another deployment', 'metadata:\n  name: other\n', /metadata.name is 'other'/],
    ];
    for (const [name, content, message] of broken) {
      it(`rejects ${name} with a clear message`, () => {
        const files: Record<string, string> = content === undefined ? {} : { 'd.yaml': content };
        const p = problems({ ...MINIMAL, deploymentSpecFile: 'd.yaml' }, context(files));
        assert.equal(p.length, 1, p.join('\n'));
        assert.match(p[0], /^deploymentSpecFile: /);
        assert.match(p[0], message);
      });
    }

    it('treats the repository root (an empty filePath input as the agent passes it) as no file', () => {
      assert.equal(parse({ ...MINIMAL, deploymentSpecFile: ROOT }).specFile, undefined);
    });
  });

  it('asks for what the other token source and access mode need (details: test/aks/access-inputs.test.ts)', () => {
    assert.deepEqual(problems({ ...MINIMAL, tokenSource: 'serviceConnection' }).map((p) => p.split(':')[0]), ['vvpServiceConnection']);
    assert.deepEqual(problems({ ...MINIMAL, accessMode: 'aksPortForward' }).map((p) => p.split(':')[0]).sort(), ['aksCluster', 'aksResourceGroup']);
  });

  it('requires the service connection, key vault, VVP URL and deployment', () => {
    assert.deepEqual(problems({ jarUri: JAR }).map((p) => p.split(':')[0]).sort(), ['azureSubscription', 'deployment', 'keyVaultName', 'vvpUrl']);
  });
});

describe('jarUri credentials', () => {
  const SAS_JAR = 'https://acct.blob.core.windows.net/vvp/app.jar?sv=2022-11-02&sr=b&sp=r&sig=c2VjcmV0c2lnbmF0dXJlMTIzNDU2Nzg5MA%3D%3D';

  it('lists the query values of a jarUri other than commit as secrets, decoded and raw', () => {
    const c = parse({ ...MINIMAL, jarUri: SAS_JAR, commitId: 'abc1234' });
    assert.ok(c.jarUriSecrets.includes('c2VjcmV0c2lnbmF0dXJlMTIzNDU2Nzg5MA%3D%3D'));
    assert.ok(c.jarUriSecrets.includes('c2VjcmV0c2lnbmF0dXJlMTIzNDU2Nzg5MA=='));
    assert.ok(!c.jarUriSecrets.includes('abc1234'), 'the commit id is no secret');
    assert.ok(!c.jarUriSecrets.some((v) => v === 'r' || v === 'b'), 'one-letter values are not masked');
  });

  it('has no secrets for a wasbs jarUri with only ?commit=', () => {
    assert.deepEqual(parse({ ...MINIMAL, commitId: SHA }).jarUriSecrets, []);
  });

  it('masks the query of an invalid jarUri quoted in the error', () => {

    assert.throws(() => parse({ ...MINIMAL, jarUri: 'https://acct.blob.core.windows.net/vvp/my app.jar?sig=c2VjcmV0c2lnbmF0dXJl' }), (e: Error) => {
      assert.match(e.message, /input 'jarUri' 'https:\/\/acct\.blob\.core\.windows\.net\/vvp\/my app\.jar\?sig=\*\*\*'/);
      assert.ok(!e.message.includes('c2VjcmV0c2lnbmF0dXJl'), e.message);
      return true;
    });

  });
});
