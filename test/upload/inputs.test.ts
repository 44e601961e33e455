import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InputError } from '../../tasks/common/errors/errors';
import { parseUploadInputs } from '../../tasks/VvpUploadArtifact/VvpUploadArtifactV1/inputs';

const GOOD: Record<string, string> = {
  azureSubscription: 'my-arm-connection',
  storageAccount: 'vvpstorage',
  containerName: 'vvp',
  artifactPath: '**/target/*.jar',
};

const source =
  (inputs: Record<string, string | undefined>) =>
  (name: string): string | undefined =>
    inputs[name];
const noVariables = (): undefined => undefined;

function problemsOf(inputs: Record<string, string | undefined>): { input: string; value?: string; expected: string }[] {
  try {
    parseUploadInputs(source(inputs), noVariables);
  } catch (error) {
    assert.ok(error instanceof InputError, `expected InputError, got ${String(error)}`);
    return [...error.problems];
  }
  return [];
}

describe('parseUploadInputs', () => {
  test('applies the documented defaults when only the required inputs are set', () => {
    const config = parseUploadInputs(source(GOOD), (name) =>
      ({ 'System.DefaultWorkingDirectory': '/agent/_work/1/s', 'Build.SourceVersion': 'a1b2c3', 'Build.BuildNumber': '20250101.7' })[name],
    );
    assert.deepEqual(config, {
      azureSubscription: 'my-arm-connection',
      storageAccount: 'vvpstorage',
      containerName: 'vvp',
      namespace: 'default',
      artifactPatterns: ['**/target/*.jar'],
      blobName: undefined,
      overwrite: 'ifChanged',
      blobEndpoint: undefined,
      workingDirectory: '/agent/_work/1/s',
      sourceVersion: 'a1b2c3',
      buildNumber: '20250101.7',
    });
  });

  test('splits artifactPath into trimmed lines, keeping ! exclusions', () => {
    const config = parseUploadInputs(source({ ...GOOD, artifactPath: ' **/target/*.jar \r\n\n!**/original-*.jar\n' }), noVariables);
    assert.deepEqual(config.artifactPatterns, ['**/target/*.jar', '!**/original-*.jar']);
  });

  test('accepts overwrite modes case-insensitively and returns the canonical spelling', () => {
    for (const [given, expected] of [
      ['ifchanged', 'ifChanged'],
      ['ALWAYS', 'always'],
      ['never', 'never'],
    ]) {
      assert.equal(parseUploadInputs(source({ ...GOOD, overwrite: given }), noVariables).overwrite, expected);
    }
  });

  test('normalises blobEndpoint and keeps blobName', () => {
    const config = parseUploadInputs(
      source({ ...GOOD, blobEndpoint: 'https://files.example.com/', blobName: 'jobs/top-speed-1.2.jar', namespace: 'team-a' }),
      noVariables,
    );
    assert.equal(config.blobEndpoint, 'https://files.example.com');
    assert.deepEqual(config.blobName, { source: 'jobs/top-speed-1.2.jar', parts: [{ kind: 'text', text: 'jobs/top-speed-1.2.jar' }], needsSha256: false });
    assert.equal(config.namespace, 'team-a');
  });

  test('parses blobName tokens once, into the parts the upload fills in', () => {
    const config = parseUploadInputs(source({ ...GOOD, blobName: 'jobs/{name}-{sha256:12}{ext}' }), noVariables);
    assert.deepEqual(config.blobName, {
      source: 'jobs/{name}-{sha256:12}{ext}',
      parts: [{ kind: 'text', text: 'jobs/' }, { kind: 'name' }, { kind: 'text', text: '-' }, { kind: 'sha256', digits: 12 }, { kind: 'ext' }],
      needsSha256: true,
    });
  });

  test('an unknown blobName token or a bad N fails the inputs, quoting the value and the accepted forms', () => {
    for (const blobName of ['{name}-{version}{ext}', '{name}-{sha256:4}{ext}', '{name}-{sha256:12{ext}']) {
      const problems = problemsOf({ ...GOOD, blobName });
      assert.equal(problems.length, 1, blobName);
      assert.equal(problems[0].input, 'blobName');
      assert.equal(problems[0].value, blobName);
      assert.match(problems[0].expected, /\{name\} .*\{ext\} .*\{sha256\} .*\{sha256:N\} \(its first N hex digits, N from 8 to 64\)/, blobName);
    }
    assert.throws(() => parseUploadInputs(source({ ...GOOD, blobName: '{version}.jar' }), noVariables), /Invalid input 'blobName' '\{version\}\.jar': an unknown token in '\{version\}'; accepted are the tokens/);
  });

  test("checks a tokenised blobName's shape before any file is found", () => {
    assert.match(problemsOf({ ...GOOD, blobName: '/{name}{ext}' })[0]?.expected ?? '', /must not start with '\/'/);
    assert.match(problemsOf({ ...GOOD, blobName: '{name}//{sha256}{ext}' })[0]?.expected ?? '', /must not contain empty path segments/);
    assert.deepEqual(problemsOf({ ...GOOD, blobName: 'jobs/{name}-$(Build.BuildId){ext}' }), []);
  });

  test('drops a source version that cannot travel as a metadata header', () => {
    const config = parseUploadInputs(source(GOOD), (name) => (name === 'Build.SourceVersion' ? 'ünïcode' : undefined));
    assert.equal(config.sourceVersion, undefined);
  });

  test('lists every bad input in one InputError, with values and accepted forms', () => {
    const problems = problemsOf({
      azureSubscription: '',
      storageAccount: 'VVP-Storage',
      containerName: 'My_Container',
      namespace: 'Default',
      artifactPath: '',
      blobName: '/abs.jar',
      overwrite: 'sometimes',
      blobEndpoint: 'http://files.example.com',
    });
    assert.deepEqual(
      problems.map((p) => p.input),
      ['azureSubscription', 'storageAccount', 'containerName', 'namespace', 'artifactPath', 'blobName', 'overwrite', 'blobEndpoint'],
    );
    assert.equal(problems.find((p) => p.input === 'storageAccount')?.value, 'VVP-Storage');
    assert.match(problems.find((p) => p.input === 'overwrite')?.expected ?? '', /ifChanged, always, never/);
    try {
      parseUploadInputs(source({ ...GOOD, containerName: 'A' }), noVariables);
      assert.fail('expected an InputError');
    } catch (error) {
      assert.match((error as Error).message, /^Invalid input 'containerName' 'A': 3 to 63 characters/);
    }
  });

  test('refuses an artifactPath made only of exclusions', () => {
    const problems = problemsOf({ ...GOOD, artifactPath: '!**/original-*.jar' });
    assert.equal(problems.length, 1);
    assert.match(problems[0].expected, /at least one pattern/);
  });

  test('counts the namespace prefix towards the 1024-character blob name limit', () => {
    const namespace = 'n'.repeat(63);
    const room = 1024 - `artifacts/namespaces/${namespace}/`.length;
    assert.deepEqual(problemsOf({ ...GOOD, namespace, blobName: 'a'.repeat(room) }), []);
    assert.equal(problemsOf({ ...GOOD, namespace, blobName: 'a'.repeat(room + 1) })[0]?.input, 'blobName');
  });
});

describe('name rules', () => {
  /** Whether parsing accepts `value` as `input` (the other inputs valid). */
  const accepts = (input: string) => (value: string): boolean => !problemsOf({ ...GOOD, [input]: value }).some((p) => p.input === input);
  const storageAccountOk = accepts('storageAccount');
  const containerNameOk = accepts('containerName');
  const namespaceOk = accepts('namespace');
  const cases: [string, (v: string) => boolean, string, boolean][] = [
    // storage account: 3-24 lowercase letters and digits
    ['account', storageAccountOk, 'vvpstorage', true],
    ['account', storageAccountOk, 'abc', true],
    ['account', storageAccountOk, 'a'.repeat(24), true],
    ['account', storageAccountOk, 'ab', false],
    ['account', storageAccountOk, 'a'.repeat(25), false],
    ['account', storageAccountOk, 'VvpStorage', false],
    ['account', storageAccountOk, 'vvp-storage', false],
    ['account', storageAccountOk, 'vvpstorage.blob.core.windows.net', false],
    // container: 3-63, lowercase letters, digits, single hyphens, alphanumeric ends
    ['container', containerNameOk, 'vvp', true],
    ['container', containerNameOk, 'vvp-artifacts-2', true],
    ['container', containerNameOk, 'a'.repeat(63), true],
    ['container', containerNameOk, 'ab', false],
    ['container', containerNameOk, 'a'.repeat(64), false],
    ['container', containerNameOk, 'Vvp', false],
    ['container', containerNameOk, 'vvp--x', false],
    ['container', containerNameOk, '-vvp', false],
    ['container', containerNameOk, 'vvp-', false],
    ['container', containerNameOk, 'vvp_x', false],
    ['container', containerNameOk, '$root', false],
    // VVP namespace: DNS label
    ['namespace', namespaceOk, 'default', true],
    ['namespace', namespaceOk, 'a', true],
    ['namespace', namespaceOk, 'team-a-1', true],
    ['namespace', namespaceOk, 'n'.repeat(63), true],
    ['namespace', namespaceOk, 'n'.repeat(64), false],
    ['namespace', namespaceOk, 'Default', false],
    ['namespace', namespaceOk, '-x', false],
    ['namespace', namespaceOk, 'x-', false],
    ['namespace', namespaceOk, 'a_b', false],
    ['namespace', namespaceOk, 'a.b', false],
  ];
  for (const [kind, check, value, ok] of cases) {
    test(`${kind} name '${value.length > 30 ? `${value.slice(0, 8)}… (${value.length})` : value}' is ${ok ? 'accepted' : 'rejected'}`, () => {
      assert.equal(check(value), ok);
    });
  }
});

describe('blobEndpoint', () => {
  const cases: [string, string | undefined][] = [
    ['https://vvpstorage.blob.core.windows.net', 'https://vvpstorage.blob.core.windows.net'],
    ['https://vvpstorage.blob.core.windows.net/', 'https://vvpstorage.blob.core.windows.net'],
    ['https://files.example.com:8443/prefix/', 'https://files.example.com:8443/prefix'],
    ['http://127.0.0.1:10000/devstoreaccount1', 'http://127.0.0.1:10000/devstoreaccount1'],
    ['http://localhost:10000', 'http://localhost:10000'],
    ['http://[::1]:10000', 'http://[::1]:10000'],
    ['http://vvpstorage.blob.core.windows.net', undefined],
    ['ftp://files.example.com', undefined],
    ['vvpstorage.blob.core.windows.net', undefined],
    ['https://user:pw@files.example.com', undefined],
    ['https://vvpstorage.blob.core.windows.net/?sv=2024&sig=secret', undefined],
    ['https://files.example.com/#x', undefined],
  ];
  for (const [value, expected] of cases) {
    test(`'${value}' ${expected ? `becomes '${expected}'` : 'is rejected'}`, () => {
      const problems = problemsOf({ ...GOOD, blobEndpoint: value });
      assert.deepEqual(problems.map((p) => p.input), expected === undefined ? ['blobEndpoint'] : []);
      if (expected !== undefined) assert.equal(parseUploadInputs(source({ ...GOOD, blobEndpoint: value }), noVariables).blobEndpoint, expected);
    });
  }
});

describe('storage account from the classic editor picker', () => {
  test('takes the account name from a storage account resource ID and keeps plain names', () => {
    const account = (storageAccount: string): string => parseUploadInputs(source({ ...GOOD, storageAccount }), noVariables).storageAccount;
    assert.equal(account('/subscriptions/0000/resourceGroups/rg-vvp/providers/Microsoft.Storage/storageAccounts/vvpstorage'), 'vvpstorage');
    assert.equal(account('vvpstorage'), 'vvpstorage');
    const other = '/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Web/sites/x';
    assert.deepEqual(problemsOf({ ...GOOD, storageAccount: other }).map((p) => [p.input, p.value]), [['storageAccount', other]], 'kept as given, so refused as such');
  });
});
