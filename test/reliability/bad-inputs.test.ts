/**
 * Bad inputs of both bundled tasks, run as the agent runs them: each must fail with one message
 * that names the input, quotes the bad value (a secret stays masked) and states the accepted
 * form, with no stack trace, and, since all of them can be checked on the agent, without a
 * single network call.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RIG_DEFAULTS as D } from '../rig/config';
import type { PipelineVariable, TaskRunResult } from '../rig/run-task';
import { azureRmEndpoint, type ServiceEndpoint } from '../rig/service-endpoints';
import { deployInputs, explain, runBundled, scanBench, startBench, type Bench } from './bench';

type TaskName = 'VvpDeploy' | 'VvpUploadArtifact';

interface BadInput {
  task: TaskName;
  /** What is wrong, for the test name. */
  what: string;
  /** Changes to the task's valid inputs; `undefined` removes one. */
  inputs?: Record<string, string | undefined>;
  /** Replaces the valid service connection. */
  endpoint?: ServiceEndpoint;
  files?: Record<string, string>;
  variables?: Record<string, PipelineVariable>;
  /** The input the message must name. */
  input: string;
  /** The bad value as the message must quote it (a prefix for huge values); omitted: not checked. */
  value?: string;
  /** The accepted form the message must state. */
  form: RegExp;
  /** Part of the value the message must not repeat (a password or SAS signature in a URL). */
  hidden?: string;
}

const DEPLOYMENT = 'top-speed-windowing';
const JAR_FILE = { 'flink-job/target/top-speed-windowing.jar': 'PK jar bytes' };

/** An AzureRM connection with some authorization parameters or data removed or replaced. */
function damaged(change: { drop?: string[]; data?: Record<string, string>; scheme?: string }): ServiceEndpoint {
  const e = azureRmEndpoint({ scheme: 'ServicePrincipal' });
  for (const key of change.drop ?? []) delete e.parameters[key];
  return { ...e, scheme: change.scheme ?? e.scheme, data: { ...e.data, ...change.data } };
}

const SPEC_OK_PREFIX = `kind: Deployment\napiVersion: v1\nmetadata:\n  name: ${DEPLOYMENT}\nspec:\n  template:\n    spec:\n      artifact:\n        kind: JAR\n`;

const DEPLOY_CASES: Omit<BadInput, 'task'>[] = [
  { what: 'an empty azureSubscription', inputs: { azureSubscription: '' }, input: 'azureSubscription', form: /is required: the name of an Azure Resource Manager service connection/ },
  { what: 'a service connection the job does not have', inputs: { azureSubscription: 'no-such-connection' }, input: 'azureSubscription', value: 'no-such-connection', form: /an Azure Resource Manager service connection this pipeline is allowed to use/ },
  { what: 'a connection with an unknown scheme', endpoint: damaged({ scheme: 'PublishProfile' }), input: 'azureSubscription', value: `${D.serviceConnectionId} (scheme PublishProfile)`, form: /Service principal \(secret or certificate\), Workload identity federation or Managed identity/ },
  { what: 'a service principal connection without its key', endpoint: damaged({ drop: ['serviceprincipalkey'] }), input: 'azureSubscription', value: D.serviceConnectionId, form: /a service connection that has clientSecret/ },
  { what: 'a connection whose resource manager URL is plain http', endpoint: damaged({ data: { resourceManagerUrl: 'http://management.azure.com/' } }), input: 'azureSubscription', value: 'http://management.azure.com', form: /its resource manager URL \(resourceManagerUrl\) 'http:\/\/management\.azure\.com' is not an https URL/ },
  { what: 'a connection whose authority URL is malformed', endpoint: damaged({ data: { activeDirectoryAuthority: 'login microsoftonline com' } }), input: 'azureSubscription', value: 'login microsoftonline com', form: /https URL/ },
  { what: 'a whitespace-only keyVaultName', inputs: { keyVaultName: '   ' }, input: 'keyVaultName', value: '   ', form: /is required: the name of the key vault/ },
  { what: 'a two-letter keyVaultName', inputs: { keyVaultName: 'kv' }, input: 'keyVaultName', value: 'kv', form: /3-24 letters, digits and single hyphens/ },
  { what: 'a keyVaultName with an underscore and a bang', inputs: { keyVaultName: 'my_vault!' }, input: 'keyVaultName', value: 'my_vault!', form: /3-24 letters, digits and single hyphens/ },
  { what: 'a 30-character keyVaultName', inputs: { keyVaultName: 'k'.repeat(30) }, input: 'keyVaultName', value: 'k'.repeat(30), form: /3-24 letters/ },
  { what: 'a tokenSecretName with an underscore', inputs: { tokenSecretName: 'vvp_token' }, input: 'tokenSecretName', value: 'vvp_token', form: /1-127 letters, digits and hyphens/ },
  { what: 'a 5000-character tokenSecretName', inputs: { tokenSecretName: 't'.repeat(5000) }, input: 'tokenSecretName', value: 't'.repeat(100), form: /1-127 letters, digits and hyphens/ },
  { what: 'an empty vvpUrl', inputs: { vvpUrl: '' }, input: 'vvpUrl', form: /is required: the base URL of Ververica Platform/ },
  { what: 'a vvpUrl that is no URL', inputs: { vvpUrl: 'not a url' }, input: 'vvpUrl', value: 'not a url', form: /an absolute URL such as https:\/\/vvp\.example\.com/ },
  { what: 'a plain http:// vvpUrl to another host', inputs: { vvpUrl: 'http://vvp.example.com' }, input: 'vvpUrl', value: 'http://vvp.example.com', form: /an https:\/\/ URL .*allowInsecureHttp: true.*must not travel in clear text/ },
  { what: 'an ftp:// vvpUrl', inputs: { vvpUrl: 'ftp://vvp.example.com' }, input: 'vvpUrl', value: 'ftp://vvp.example.com', form: /an https:\/\/ URL/ },
  { what: 'a vvpUrl with credentials (masked in the message)', inputs: { vvpUrl: 'https://admin:hunter2-password@vvp.example.com' }, input: 'vvpUrl', value: 'https://***@vvp.example.com', hidden: 'hunter2-password', form: /a URL without credentials/ },
  { what: 'a vvpUrl with a query string (masked in the message)', inputs: { vvpUrl: 'https://vvp.example.com/?token=abc123secret' }, input: 'vvpUrl', value: 'https://vvp.example.com/?***', hidden: 'abc123secret', form: /without \?query or #fragment/ },
  { what: 'an upper-case namespace', inputs: { namespace: 'Default' }, input: 'namespace', value: 'Default', form: /lower-case letters, digits and hyphens/ },
  { what: 'a 64-character namespace', inputs: { namespace: 'n'.repeat(64) }, input: 'namespace', value: 'n'.repeat(64), form: /at most 63 characters/ },
  { what: 'an empty deployment', inputs: { deployment: '' }, input: 'deployment', form: /is required: the deployment name or id/ },
  { what: 'a deployment name VVP would reject', inputs: { deployment: 'Top_Speed' }, input: 'deployment', value: 'Top_Speed', form: /a deployment name \(lower-case .*\) or a deployment id \(UUID\)/ },
  { what: 'a 10 000-character deployment name', inputs: { deployment: 'd'.repeat(10_000) }, input: 'deployment', value: 'd'.repeat(150), form: /at most 63 characters/ },
  { what: 'a relative jarUri', inputs: { jarUri: 'target/app.jar' }, input: 'jarUri', value: 'target/app.jar', form: /an absolute URI without spaces/ },
  { what: 'a jarUri with spaces', inputs: { jarUri: 'wasbs://vvp@acct.blob.core.windows.net/my app.jar' }, input: 'jarUri', value: 'wasbs://vvp@acct.blob.core.windows.net/my app.jar', form: /an absolute URI without spaces/ },
  { what: 'a deploymentTargetId that is no UUID', inputs: { deploymentTargetId: 'vvp-default' }, input: 'deploymentTargetId', value: 'vvp-default', form: /a deployment target id \(UUID\)/ },
  { what: 'a commitId with a slash', inputs: { commitId: 'feature/x' }, input: 'commitId', value: 'feature/x', form: /letters, digits, dots, underscores or hyphens/ },
  { what: 'a commitId macro whose variable holds no commit id', inputs: { commitId: '$(Build.SourceVersion)' }, variables: { 'Build.SourceVersion': 'release 1.0 (final)' }, input: 'commitId', value: 'release 1.0 (final)', form: /letters, digits, dots, underscores or hyphens \(or empty for no \?commit=\)/ },
  { what: "createIfMissing 'yes'", inputs: { createIfMissing: 'yes' }, input: 'createIfMissing', value: 'yes', form: /true or false/ },
  { what: "rollbackOnFailure 'on'", inputs: { rollbackOnFailure: 'on' }, input: 'rollbackOnFailure', value: 'on', form: /true or false/ },
  { what: "allowInsecureHttp 'maybe'", inputs: { allowInsecureHttp: 'maybe' }, input: 'allowInsecureHttp', value: 'maybe', form: /true or false/ },
  { what: 'timeoutMinutes 0', inputs: { timeoutMinutes: '0' }, input: 'timeoutMinutes', value: '0', form: /a number from 0.1 to 360 \(decimals allowed/ },
  { what: "timeoutMinutes '15m'", inputs: { timeoutMinutes: '15m' }, input: 'timeoutMinutes', value: '15m', form: /a number from 0.1 to 360 \(decimals allowed/ },
  { what: 'pollIntervalSeconds -5', inputs: { pollIntervalSeconds: '-5' }, input: 'pollIntervalSeconds', value: '-5', form: /a whole number from 1 to 300/ },
  { what: 'pollIntervalSeconds 2.5', inputs: { pollIntervalSeconds: '2.5' }, input: 'pollIntervalSeconds', value: '2.5', form: /a whole number from 1 to 300/ },
  { what: "tokenSource 'vault'", inputs: { tokenSource: 'vault' }, input: 'tokenSource', value: 'vault', form: /one of keyVault, serviceConnection/ },
  { what: "accessMode 'tunnel'", inputs: { accessMode: 'tunnel' }, input: 'accessMode', value: 'tunnel', form: /one of direct, aksPortForward/ },
  { what: 'a deploymentSpecFile that does not exist', inputs: { deploymentSpecFile: 'deploy/missing.yaml' }, input: 'deploymentSpecFile', value: 'deploy/missing.yaml', form: /a readable YAML or JSON Deployment file: no such file/ },
  { what: 'a deploymentSpecFile that is a folder', inputs: { deploymentSpecFile: 'deploy' }, files: { 'deploy/readme.txt': 'x' }, input: 'deploymentSpecFile', value: 'deploy', form: /a YAML or JSON file, not a directory/ },
  { what: 'a deploymentSpecFile that is not YAML', inputs: { deploymentSpecFile: 'deployment.yaml' }, files: { 'deployment.yaml': 'spec: [unclosed\n  template: {{{' }, input: 'deploymentSpecFile', value: 'deployment.yaml', form: /a YAML or JSON Deployment/ },
  { what: 'a deploymentSpecFile holding a list', inputs: { deploymentSpecFile: 'deployment.yaml' }, files: { 'deployment.yaml': '- kind: Deployment\n- kind: Deployment\n' }, input: 'deploymentSpecFile', value: 'deployment.yaml', form: /a YAML or JSON Deployment/ },
  { what: 'a deploymentSpecFile for another deployment', inputs: { deploymentSpecFile: 'deployment.yaml' }, files: { 'deployment.yaml': SPEC_OK_PREFIX.replace(`name: ${DEPLOYMENT}`, 'name: other-job') + '        jarUri: JARURI\n' }, input: 'deploymentSpecFile', value: 'deployment.yaml', form: /a Deployment matching the inputs/ },
  { what: 'a JARURI placeholder without a jarUri input', inputs: { deploymentSpecFile: 'deployment.yaml', jarUri: undefined }, files: { 'deployment.yaml': `${SPEC_OK_PREFIX}        jarUri: JARURI\n` }, input: 'jarUri', form: /contains the token JARURI, which this input replaces/ },
  { what: 'a DEPLOYMENTTARGETID placeholder without a deploymentTargetId input', inputs: { deploymentSpecFile: 'deployment.yaml' }, files: { 'deployment.yaml': `${SPEC_OK_PREFIX}        jarUri: JARURI\n  deploymentTargetId: DEPLOYMENTTARGETID\n` }, input: 'deploymentTargetId', form: /contains the token DEPLOYMENTTARGETID/ },
  { what: 'a spec file without a jarUri and no jarUri input', inputs: { deploymentSpecFile: 'deployment.yaml', jarUri: undefined }, files: { 'deployment.yaml': `${SPEC_OK_PREFIX}        entryClass: com.example.Job\n` }, input: 'jarUri', form: /is required unless deploymentSpecFile sets spec\.template\.spec\.artifact\.jarUri/ },
];

const UPLOAD_CASES: Omit<BadInput, 'task'>[] = [
  { what: 'an empty storageAccount', inputs: { storageAccount: '' }, input: 'storageAccount', form: /is required: 3 to 24 lowercase letters and digits/ },
  { what: 'a storage account URL instead of its name', inputs: { storageAccount: 'https://vvpstorage.blob.core.windows.net' }, input: 'storageAccount', value: 'https://vvpstorage.blob.core.windows.net', form: /the storage account name, not its URL/ },
  { what: 'a container name with capitals and an underscore', inputs: { containerName: 'Bad_Container' }, input: 'containerName', value: 'Bad_Container', form: /lowercase letters, digits and hyphens/ },
  { what: 'a namespace with a space', inputs: { namespace: 'team a' }, input: 'namespace', value: 'team a', form: /a VVP namespace name/ },
  { what: 'an empty artifactPath', inputs: { artifactPath: '' }, input: 'artifactPath', form: /is required: a file path or glob pattern/ },
  { what: 'an artifactPath of exclusions only', inputs: { artifactPath: '!**/original-*.jar' }, input: 'artifactPath', value: '!**/original-*.jar', form: /at least one pattern that is not an exclusion/ },
  { what: 'an artifactPath matching no file', inputs: { artifactPath: '**/*.war' }, input: 'artifactPath', value: '**/*.war', form: /must match exactly one file .* but matched no file/ },
  { what: 'an artifactPath matching two files', inputs: { artifactPath: '**/*.jar' }, files: { ...JAR_FILE, 'flink-job/target/original-top-speed-windowing.jar': 'x' }, input: 'artifactPath', value: '**/*.jar', form: /must match exactly one file .* but matched 2/ },
  { what: "a blobName escaping the namespace with '..'", inputs: { blobName: '../other/app.jar' }, input: 'blobName', value: '../other/app.jar', form: /must not contain '\.' or '\.\.' path segments/ },
  { what: 'a blobName with a backslash', inputs: { blobName: 'jobs\\app.jar' }, input: 'blobName', value: 'jobs\\app.jar', form: /must not contain a backslash/ },
  { what: 'a 2000-character blobName', inputs: { blobName: `${'b'.repeat(2000)}.jar` }, input: 'blobName', value: 'b'.repeat(150), form: /must be at most \d+ characters/ },
  { what: "overwrite 'maybe'", inputs: { overwrite: 'maybe' }, input: 'overwrite', value: 'maybe', form: /one of ifChanged, always, never/ },
  { what: 'a plain http:// blobEndpoint to another host', inputs: { blobEndpoint: 'http://vvpstorage.example.com' }, input: 'blobEndpoint', value: 'http://vvpstorage.example.com', form: /an https:\/\/ URL \(http:\/\/ only for 127\.0\.0\.1, localhost or ::1\)/ },
  { what: 'a blobEndpoint carrying a SAS (masked in the message)', inputs: { blobEndpoint: 'https://vvpstorage.blob.core.windows.net/?sv=2024-01-01&sig=abc123secret' }, input: 'blobEndpoint', value: 'https://vvpstorage.blob.core.windows.net/?***', hidden: 'abc123secret', form: /the base URL only, without \?query or #fragment/ },
  { what: 'a service principal connection without its client id', endpoint: damaged({ drop: ['serviceprincipalid'] }), input: 'azureSubscription', value: D.serviceConnectionId, form: /a service connection that has clientId/ },
];

const CASES: BadInput[] = [
  ...DEPLOY_CASES.map((c) => ({ ...c, task: 'VvpDeploy' as const })),
  ...UPLOAD_CASES.map((c) => ({ ...c, task: 'VvpUploadArtifact' as const })),
];

function validInputs(task: TaskName): Record<string, string | number | undefined> {
  if (task === 'VvpDeploy') return deployInputs(DEPLOYMENT, 'abc1234') as Record<string, string | number>;
  return { storageAccount: D.storageAccount, containerName: 'vvp', artifactPath: '**/target/*.jar' };
}

/** No stack frame anywhere in the output (stdout incl. debug lines, stderr, message). */
function assertNoStackTrace(run: TaskRunResult): void {
  const frame = /\bat (?:[\w.<>$[\] ]+ \()?(?:\/|[A-Za-z]:\\|node:)[^)\s]*:\d+:\d+\)?/;
  for (const [where, text] of [['stdout', run.stdout], ['stderr', run.stderr], ['message', run.message ?? '']] as const) {
    const m = frame.exec(text);
    assert.equal(m, null, `a stack frame in ${where}: ${m?.[0]}`);
  }
}

describe('bad inputs of both tasks, as the agent passes them', () => {
  let bench: Bench;
  before(async () => {
    bench = await startBench({ simulator: false });
  });
  after(async () => {
    await bench?.stop();
  });

  describe('each fails naming the input, the value and the accepted form, without a stack trace', { concurrency: 4 }, () => {
    for (const c of CASES) {
      it(`${c.task} rejects ${c.what}`, async () => {
        const run = await runBundled(bench, c.task, {
          endpoint: c.endpoint,
          inputs: { ...validInputs(c.task), ...c.inputs },
          files: { ...JAR_FILE, ...c.files },
          variables: c.variables,
          timeoutMs: 20_000,
        });
        assert.equal(run.result, 'Failed', explain(run));
        const message = run.message ?? '';
        assert.ok(message.includes(`input '${c.input}'`), `the message names input '${c.input}': ${message}`);
        if (c.value !== undefined) {
          const quoted = c.value.trim() === '' ? '(empty)' : `'${c.value}`;
          assert.ok(message.includes(quoted), `the message quotes the value ${quoted.slice(0, 80)}: ${message.slice(0, 600)}`);
        }
        assert.match(message, c.form);
        if (c.hidden) assert.ok(!message.includes(c.hidden) && !run.errors.join('\n').includes(c.hidden), 'the message masks the secret part of the value');
        assert.ok(message.length < 4000, `a readable message, not ${message.length} characters`);
        assertNoStackTrace(run);
      });
    }
  });

  it('made no network call for any of them: every bad input is caught on the agent', async () => {
    const seen = await bench.rig.control.requests();
    assert.deepEqual(seen.map((r) => `${r.method} ${r.host}${r.path}`), []);
    assert.ok(CASES.length >= 40, `${CASES.length} cases`);
  });

  it('printed no secret in any of the runs', async () => {
    await scanBench(bench);
  });
});
