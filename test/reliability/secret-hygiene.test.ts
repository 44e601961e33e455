/**
 * Secrets and untrusted text, both tasks bundled: servers that echo the request (headers with
 * a Bearer token, a token request body with the SPN key) in an error body, a redirect to
 * another host, and VVP event and failure messages carrying logging commands.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RIG_DEFAULTS as D } from '../rig/config';
import { assertNoSecretLeak } from '../rig/secret-scan';
import { parseVsoLine } from '../rig/vso-commands';
import type { TaskRunResult } from '../rig/run-task';
import { assertNoFalseSuccess } from './false-success';
import { deployInputs, explain, jarFor, requireSim, routeBlobHostNowhere, runBundled, runUpload, scanBench, seed, startBench, type Bench } from './bench';

const EVIL_HOST = 'evil.example.org';

/** Every logging command the agent would execute from this run: the first `##vso[` of each stdout or stderr line. */
function executedCommands(run: TaskRunResult): { command: string; properties: Record<string, string>; line: string }[] {
  return `${run.stdout}\n${run.stderr}`
    .split(/\r?\n/)
    .map((line) => parseVsoLine(line))
    .filter((c): c is NonNullable<typeof c> => c !== undefined);
}

describe('secrets and untrusted text', () => {
  let bench: Bench;
  const everySecret = async (): Promise<string[]> => [D.clientSecret, D.vvpApiToken, D.systemAccessToken, ...(await bench.rig.control.tokens()).map((t) => t.token)];

  before(async () => {
    bench = await startBench();
    // A host the proxy can reach, so a redirect that was followed would show in its log.
    await bench.rig.control.addRoute({ host: EVIL_HOST, target: requireSim(bench).url });
    await routeBlobHostNowhere(bench);
  });
  after(async () => {
    await bench?.stop();
  });

  it('masks the VVP token when a VVP error body echoes the Authorization header', async () => {
    const name = 'echo-vvp';
    await seed(bench, name);
    await bench.rig.control.addFault({
      host: /^vvp\.example\.com$/,
      method: 'GET',
      path: new RegExp(`/deployments/${name}$`),
      count: 1,
      action: { kind: 'status', status: 403, echo: true, headers: { 'content-type': 'application/json' }, body: '{"status":403,"error":"Forbidden","message":"Access denied for a request with {{headers}}"}' },
    });
    try {
      const run = await runBundled(bench, 'VvpDeploy', { inputs: deployInputs(name, 'e1e1e1e') });
      assert.equal(run.result, 'Failed', explain(run));
      assert.match(run.message ?? '', /HTTP 403: Access denied for a request with .*authorization: Bearer \*\*\*/);
      await assertNoFalseSuccess(run, { sim: requireSim(bench).control, deployment: name, jarUri: jarFor('e1e1e1e') });
      assertNoSecretLeak(run, await everySecret());
    } finally {
      await bench.rig.control.clearFaults();
    }
  });

  it('masks the Key Vault access token and the SPN key when Key Vault and Entra ID echo the request', async () => {
    // Key Vault: the second GET carries the Bearer token (the first one gets the 401 challenge).
    await bench.rig.control.addFault({
      host: /^my-keyvault\.vault\.azure\.net$/,
      method: 'GET',
      skip: 1,
      count: 1,
      action: { kind: 'status', status: 400, echo: true, headers: { 'content-type': 'application/json' }, body: '{"error":{"code":"BadParameter","message":"Rejected request: {{headers}}"}}' },
    });
    let vault: TaskRunResult;
    try {
      vault = await runBundled(bench, 'VvpDeploy', { inputs: deployInputs('never-reached', 'e2e2e2e') });
    } finally {
      await bench.rig.control.clearFaults();
    }
    assert.equal(vault.result, 'Failed', explain(vault));
    assert.match(vault.message ?? '', /Azure Key Vault: reading secret 'vvpAPIToken' .* HTTP 400: BadParameter: Rejected request: .*authorization: Bearer \*\*\*/);
    // Entra ID: the token request's form body holds the client secret.
    await bench.rig.control.addFault({
      host: /^login\.microsoftonline\.com$/,
      method: 'POST',
      count: 1,
      action: {
        kind: 'status',
        status: 400,
        echo: true,
        headers: { 'content-type': 'application/json' },
        body: '{"error":"invalid_request","error_description":"AADSTS900144: The request is malformed. Received: {{body}}","error_codes":[900144]}',
      },
    });
    let entra: TaskRunResult;
    try {
      entra = await runBundled(bench, 'VvpDeploy', { inputs: deployInputs('never-reached', 'e3e3e3e') });
    } finally {
      await bench.rig.control.clearFaults();
    }
    assert.equal(entra.result, 'Failed', explain(entra));
    assert.match(entra.message ?? '', /Microsoft Entra ID: .*AADSTS900144: The request is malformed\. Received: .*client_secret=\*\*\*/);
    const secrets = await everySecret();
    assertNoSecretLeak(vault, secrets);
    assertNoSecretLeak(entra, secrets);
    assert.equal((await requireSim(bench).control.requests()).length, 0, 'VVP was never called without a token');
  });

  it('masks the storage token when a Blob Storage error body echoes the request headers', async () => {
    const since = await bench.rig.control.mark();
    await bench.rig.control.addFault({
      host: /^vvpstorage\.blob\.core\.windows\.net$/,
      method: 'PUT',
      path: /[?&]comp=block(&|$)/,
      count: 1,
      action: {
        kind: 'status',
        status: 403,
        echo: true,
        headers: { 'x-ms-error-code': 'AuthorizationFailure', 'content-type': 'application/xml' },
        body: '<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthorizationFailure</Code><Message>Denied: {{headers}}</Message></Error>',
      },
    });
    let run: TaskRunResult;
    try {
      run = await runUpload(bench, 'echoed.jar', Buffer.from('PK echo'));
    } finally {
      await bench.rig.control.clearFaults();
    }
    assert.equal(run.result, 'Failed', explain(run));
    assert.match(run.message ?? '', /HTTP 403: AuthorizationFailure: Denied: .*authorization: Bearer \*\*\*/);
    assertNoSecretLeak(run, await everySecret());
    assert.deepEqual(await bench.rig.control.requests({ since, method: 'PUT', path: /comp=blocklist/ }), [], 'nothing was committed');
  });

  it('does not follow a redirect to another host with the Bearer token (VVP and Key Vault)', async () => {
    const name = 'redirected';
    await seed(bench, name);
    const since = await bench.rig.control.mark();
    await bench.rig.control.addFault({
      host: /^vvp\.example\.com$/,
      method: 'GET',
      path: new RegExp(`/deployments/${name}$`),
      count: 1,
      action: { kind: 'status', status: 302, headers: { location: `https://${EVIL_HOST}/api/v1/namespaces/default/deployments/${name}` } },
    });
    let vvp: TaskRunResult;
    try {
      vvp = await runBundled(bench, 'VvpDeploy', { inputs: deployInputs(name, 'e4e4e4e') });
    } finally {
      await bench.rig.control.clearFaults();
    }
    assert.equal(vvp.result, 'Failed', explain(vvp));
    assert.match(vvp.message ?? '', /VVP answered with a redirect to https:\/\/evil\.example\.org\/api\/v1\/namespaces\/default\/deployments\/redirected/);
    assert.match(vvp.message ?? '', /The API token is never sent to a redirect target/);
    await assertNoFalseSuccess(vvp, { sim: requireSim(bench).control, deployment: name, jarUri: jarFor('e4e4e4e') });
    await bench.rig.control.addFault({
      host: /^my-keyvault\.vault\.azure\.net$/,
      method: 'GET',
      skip: 1,
      count: 1,
      action: { kind: 'status', status: 302, headers: { location: `https://${EVIL_HOST}/secrets/vvpAPIToken` } },
    });
    let vault: TaskRunResult;
    try {
      vault = await runBundled(bench, 'VvpDeploy', { inputs: deployInputs(name, 'e5e5e5e') });
    } finally {
      await bench.rig.control.clearFaults();
    }
    assert.equal(vault.result, 'Failed', explain(vault));
    const seen = await bench.rig.control.requests({ since });
    assert.deepEqual(seen.filter((r) => r.host === EVIL_HOST).map((r) => `${r.method} ${r.path}`), [], 'nothing was sent to the redirect target');
    const withVvpToken = seen.filter((r) => JSON.stringify(r.requestHeaders).includes(D.vvpApiToken));
    assert.ok(withVvpToken.length > 0 && withVvpToken.every((r) => r.host === 'vvp.example.com'), 'the VVP token went to vvp.example.com only');
    assert.equal((await requireSim(bench).control.requests({ method: 'PATCH' })).length, 0, 'nothing was changed');
  });

  it('cannot be made to run logging commands by VVP failure and event messages', async () => {
    const name = 'injected';
    const injected =
      'boom\n##vso[task.setvariable variable=INJECTED;isOutput=true]pwned\n##[group]fake group\n##vso[task.complete result=Succeeded;]all good ##vso[task.setvariable variable=ALSO]x';
    await seed(bench, name, {
      spec: { maxJobCreationAttempts: 1 },
      behaviour: {
        staleRunningMs: 200,
        savepointMs: 100,
        terminateMs: 50,
        startMs: 200,
        outcomeRules: [{ jarUriContains: 'commit=e6e6e6e', outcome: 'fails' }],
        jobFailure: { reason: '##vso[task.complete result=Succeeded;]reason', message: injected },
      },
    });
    const run = await runBundled(bench, 'VvpDeploy', { inputs: deployInputs(name, 'e6e6e6e', { rollbackOnFailure: true }) });
    assert.equal(run.result, 'Failed', explain(run));
    await assertNoFalseSuccess(run, { sim: requireSim(bench).control, deployment: name, jarUri: jarFor('e6e6e6e') });
    assert.match(run.message ?? '', /boom/, 'the failure text is shown (defused)');
    assert.match(run.message ?? '', /Rolled back/);
    const commands = executedCommands(run);
    const completes = commands.filter((c) => c.command === 'task.complete');
    assert.equal(completes.length, 1, completes.map((c) => c.line).join('\n'));
    assert.equal(completes[0]?.properties['result'], 'Failed');
    const variables = commands.filter((c) => c.command === 'task.setvariable').map((c) => c.properties['variable']);
    assert.deepEqual(variables.filter((v) => v === 'INJECTED' || v === 'ALSO'), []);
    assert.equal(run.outputs['INJECTED'], undefined);
    assert.ok(!/^##\[group\]fake group/m.test(run.stdout), 'no group opened by VVP text');
    assert.ok(!`${run.stdout}\n${run.stderr}`.split('\n').some((l) => /^##vso\[task\.(complete|setvariable)[^\]]*\](all good|pwned|x$)/.test(l)), 'no line starts with an injected command');
  });

  it('printed no secret in any run', async () => {
    await scanBench(bench);
  });
});
