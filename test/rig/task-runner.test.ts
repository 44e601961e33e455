import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as path from 'node:path';
import { RIG_DEFAULTS as D } from './config';
import { runTask } from './run-task';
import { assertNoSecretLeak, findSecretLeaks } from './secret-scan';
import { azureRmEndpoint } from './service-endpoints';
import { parseVsoLine, unescapeVso } from './vso-commands';

const VSO_TASK = path.join(__dirname, 'fixtures', 'vso-task');
const sha256 = (s: string): string => crypto.createHash('sha256').update(s).digest('hex');

describe('logging command parsing', () => {
  it('decodes the agent escapes in one pass, so an escaped %AZP25 stays literal', () => {
    assert.equal(unescapeVso('a%3Bb%5Dc%0D%0Ad%AZP25e%25f'), 'a;b]c\r\nd%e%f');
    assert.equal(unescapeVso('%AZP2525'), '%25');
  });

  it('parses properties and message of a command anywhere in the line', () => {
    const cmd = parseVsoLine('2024-01-01T00:00:00Z ##vso[task.setvariable variable=x;isOutput=true;]v%3Bw');
    assert.deepEqual(cmd && { command: cmd.command, properties: cmd.properties, message: cmd.message }, {
      command: 'task.setvariable',
      properties: { variable: 'x', isOutput: 'true' },
      message: 'v;w',
    });
    assert.equal(parseVsoLine('plain output'), undefined);
  });
});

describe('runTask', () => {
  it('decodes task.complete, output variables, secrets, summaries, warnings and plain logs', async () => {
    const secret = 'fixture-secret-value-9x7';
    const run = await runTask({ taskDir: VSO_TASK, inputs: { mode: 'commands' }, env: { RIG_FIXTURE_SECRET: secret }, timeoutMs: 20_000 });
    assert.equal(run.exitCode, 0);
    assert.equal(run.result, 'SucceededWithIssues');
    assert.equal(run.message, 'done; 100% [ok]\nsecond line');
    assert.equal(run.outputs['jarUri'], 'wasbs://vvp@vvpstorage.blob.core.windows.net/artifacts/namespaces/default/job.jar');
    assert.equal(run.outputs['tricky'], 'a;b]c%d\r\ne');
    assert.equal(run.outputs['internal'], undefined);
    assert.equal(run.variables['internal'], 'not-an-output');
    assert.deepEqual(run.secrets, [secret, secret]);
    assert.deepEqual(run.summaries, ['# Deployment\n\n| jar | job.jar |\n']);
    // setResult(SucceededWithIssues, msg) also files the message as a warning.
    assert.deepEqual(run.warnings, ['careful; [really]', 'done; 100% [ok]\nsecond line']);
    assert.ok(run.logs.includes('plain log line'));
    assertNoSecretLeak(run, [secret]);
  });

  it('gives the task inputs, endpoints and variables exactly where task-lib reads them', async () => {
    const endpoint = azureRmEndpoint({ scheme: 'ServicePrincipal' });
    const run = await runTask({
      taskDir: VSO_TASK,
      inputs: { mode: 'inspect', azureSubscription: endpoint.id },
      endpoints: [endpoint],
      variables: { 'My.Secret': { value: 'secret-variable-value', secret: true } },
      env: { AGENT_PROXYURL: 'http://127.0.0.1:9', AGENT_PROXYUSERNAME: 'u', SECRET_AGENT_PROXYPASSWORD: 'proxy-pw-123', AGENT_CAINFO: '/ca.pem', VSTS_PUBLIC_VARIABLES: '["Agent.ProxyUrl","Agent.ProxyUsername","Agent.CAInfo"]', VSTS_SECRET_VARIABLES: '["Agent.ProxyPassword"]' },
      timeoutMs: 20_000,
    });
    assert.equal(run.result, 'Succeeded', run.stdout);
    const seen = JSON.parse(run.outputs['seen'] ?? '{}') as Record<string, unknown>;
    assert.equal(seen['url'], 'https://management.azure.com/');
    assert.equal(seen['scheme'], 'ServicePrincipal');
    assert.equal(seen['authorization'], 'ServicePrincipal');
    assert.equal(seen['tenantId'], D.tenantId);
    assert.equal(seen['clientId'], D.clientId);
    assert.equal(seen['keySha256'], sha256(D.clientSecret));
    assert.equal(seen['authenticationType'], 'spnKey');
    assert.equal(seen['subscriptionId'], D.subscriptionId);
    assert.equal(seen['environment'], 'AzureCloud');
    assert.equal(seen['authority'], 'https://login.microsoftonline.com/');
    assert.equal(seen['keyVaultDnsSuffix'], 'vault.azure.net');
    assert.equal(seen['accessTokenSha256'], sha256(D.systemAccessToken));
    assert.match(String(seen['oidcRequestUri']), /^https:\/\/dev\.azure\.com\/rigorg\/.+\/_apis\/distributedtask\/hubs\/build\/plans\/.+\/jobs\/.+\/oidctoken$/);
    assert.equal(seen['secretVariableSha256'], sha256('secret-variable-value'));
    assert.deepEqual(seen['proxy'], {
      proxyUrl: 'http://127.0.0.1:9',
      proxyUsername: 'u',
      proxyPassword: 'proxy-pw-123',
      proxyBypassHosts: [],
      proxyFormattedUrl: 'http://u:proxy-pw-123@127.0.0.1:9',
    });
    assert.deepEqual(seen['cert'], { caFile: '/ca.pem' });
  });

  it('sends SIGINT when stdout shows the task is waiting, like the agent cancelling a job', async () => {
    const run = await runTask({
      taskDir: VSO_TASK,
      inputs: { mode: 'wait' },
      signalAfter: { signal: 'SIGINT', whenStdoutMatches: /waiting for a signal/ },
      timeoutMs: 20_000,
    });
    assert.equal(run.result, 'Cancelled');
    assert.ok(run.logs.includes('received SIGINT, stopping'));
    assert.ok(run.signalSentAtMs !== undefined && run.durationMs < 10_000);
  });

  it('kills a task that outlives its timeout and says so', async () => {
    const run = await runTask({ taskDir: VSO_TASK, inputs: { mode: 'wait' }, timeoutMs: 1_000 });
    assert.equal(run.timedOut, true);
    assert.equal(run.signal, 'SIGKILL');
    assert.equal(run.result, undefined);
  });
});

describe('secret scanner', () => {
  it('catches a secret the task printed, outside the setsecret line', async () => {
    const secret = 'leaky-vvp-token-0123456789';
    const run = await runTask({ taskDir: VSO_TASK, inputs: { mode: 'leak' }, env: { RIG_FIXTURE_SECRET: secret }, timeoutMs: 20_000 });
    assert.throws(() => assertNoSecretLeak(run, [secret]), (err: Error) => {
      assert.match(err.message, /stdout line \d+ \(verbatim\)/);
      assert.ok(!err.message.includes(secret), 'the failure message must not print the secret');
      return true;
    });
  });

  it('finds base64 and URL-encoded forms in stderr, summaries and outputs', () => {
    const secret = 'p@ss/word+with=chars';
    const leaks = findSecretLeaks(
      {
        stdout: '',
        stderr: `Authorization: Basic ${Buffer.from(`:${secret}`).toString('base64')}`,
        summaries: [`token=${encodeURIComponent(secret)}`],
        outputs: { blob: Buffer.from(secret).toString('base64') },
      },
      [secret],
    );
    assert.deepEqual(leaks.map((l) => [l.where, l.form]).sort(), [
      ['output variable blob', 'base64'],
      ['stderr', 'basic-auth base64'],
      ['summary 1', 'url-encoded'],
    ]);
  });
});
