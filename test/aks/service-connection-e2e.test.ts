/**
 * VvpDeploy@1 with `tokenSource: serviceConnection`: URL and API token from a Ververica Platform
 * service connection, the bundled task run as the agent runs it, VVP (the simulator) behind
 * https://vvp.example.com through the rig's proxy with the agent CA.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { bundledTaskDir } from '../rig/bundles';
import { RIG_DEFAULTS as D } from '../rig/config';
import { startRig, type Rig } from '../rig/rig';
import { runTask, type TaskRunResult } from '../rig/run-task';
import { assertNoSecretLeak } from '../rig/secret-scan';
import { tokenEndpoint, type ServiceEndpoint } from '../rig/service-endpoints';
import { startSimulator, type RunningSimulator } from '../vvp-simulator/client';

const JAR = 'wasbs://vvp@vvpstorage.blob.core.windows.net/artifacts/namespaces/default/top-speed-windowing.jar';
const CONNECTION_ID = '7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const WRONG_TOKEN = 'vvp-token-that-vvp-does-not-know-1234567890';

describe('VvpDeploy@1 with a Ververica Platform service connection (bundled task, rig)', () => {
  let rig: Rig;
  let sim: RunningSimulator;
  let taskDir: string;
  let counter = 0;

  const connection = (url = 'https://vvp.example.com', token: string = D.vvpApiToken): ServiceEndpoint => tokenEndpoint(CONNECTION_ID, url, token);
  const seed = async (): Promise<string> => {
    const name = `sc-job-${++counter}`;
    await sim.control.seedDeployment({ name, jarUri: `${JAR}?commit=0000000`, behaviour: { staleRunningMs: 150, savepointMs: 100, terminateMs: 100, startMs: 200 } });
    return name;
  };
  const run = (endpoint: ServiceEndpoint, inputs: Record<string, string>): Promise<TaskRunResult> =>
    runTask({
      taskDir,
      timeoutMs: 30_000,
      env: rig.env('agent'),
      endpoints: [endpoint],
      // No azureSubscription, no keyVaultName: the connection is all the step needs.
      inputs: { tokenSource: 'serviceConnection', vvpServiceConnection: endpoint.id, namespace: 'default', jarUri: JAR, pollIntervalSeconds: '1', ...inputs },
    });
  const explain = (r: TaskRunResult): string => `${r.result}: ${r.message}\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-2000)}`;

  before(async () => {
    taskDir = bundledTaskDir('VvpDeploy');
    sim = await startSimulator({ tokens: [{ token: D.vvpApiToken, namespace: 'default', role: 'editor' }] });
    rig = await startRig({ vvpUrl: sim.url });
  });
  after(async () => {
    await rig?.stop();
    await sim?.stop();
  });

  it('deploys with the URL and token of the connection, without contacting Entra ID or Key Vault', async () => {
    const name = await seed();
    const since = await rig.control.mark();
    const r = await run(connection(), { deployment: name });
    assert.equal(r.result, 'Succeeded', explain(r));
    assert.match(r.logs.join('\n'), new RegExp(`Read the VVP API token from Ververica Platform service connection '${CONNECTION_ID}' \\(https://vvp\\.example\\.com\\)`));
    const calls = await rig.control.requests({ since, scheme: 'https' });
    assert.ok(calls.length > 0 && calls.every((c) => c.host === 'vvp.example.com'), calls.map((c) => c.host).join(', '));
    assert.ok(calls.every((c) => c.requestHeaders['authorization'] === `Bearer ${D.vvpApiToken}`), 'the token is sent as Authorization: Bearer');
    assert.ok(r.secrets.includes(D.vvpApiToken), 'the token is registered as a secret');
    assert.match(r.summaries.join('\n'), /\]\(https:\/\/vvp\.example\.com\/app\/#\/namespaces\/default\/deployments\//);
    assertNoSecretLeak(r, [D.vvpApiToken]);
  });

  it('a token VVP rejects (401) fails naming the service connection', async () => {
    const name = await seed();
    const r = await run(connection(undefined, WRONG_TOKEN), { deployment: name });
    assert.equal(r.result, 'Failed', explain(r));
    assert.match(r.message ?? '', /401/);
    assert.match(r.message ?? '', new RegExp(`Check the API token \\(the API token of Ververica Platform service connection '${CONNECTION_ID}'\\)`));
    assertNoSecretLeak(r, [WRONG_TOKEN, D.vvpApiToken]);
  });

  it("vvpUrl overrides the connection's URL", async () => {
    const name = await seed();
    const r = await run(connection('https://old-vvp.example.com'), { deployment: name, vvpUrl: 'https://vvp.example.com' });
    assert.equal(r.result, 'Succeeded', explain(r));
    assert.match(r.logs.join('\n'), /vvpUrl https:\/\/vvp\.example\.com overrides its URL/);
  });

  it('an unusable connection URL is ignored when vvpUrl gives the address', async () => {
    const name = await seed();
    const r = await run(connection('http://old-vvp.example.com'), { deployment: name, vvpUrl: 'https://vvp.example.com' });
    assert.equal(r.result, 'Succeeded', explain(r));
    assert.match(r.logs.join('\n'), /vvpUrl https:\/\/vvp\.example\.com overrides its URL/);
  });

  it('a connection without a URL is refused naming the connection when nothing else gives the address', async () => {
    const r = await run(connection(''), { deployment: 'x' });
    assert.equal(r.result, 'Failed', explain(r));
    assert.equal(
      r.message,
      `Invalid input 'vvpServiceConnection' '${CONNECTION_ID}': a connection whose Server URL is set (edit it in Project settings > Service connections, or set vvpUrl)`,
    );
  });

  it('a connection URL with a query is refused with the query masked', async () => {
    const r = await run(connection('https://vvp.example.com/?sig=connection-url-secret'), { deployment: 'x' });
    assert.equal(r.result, 'Failed', explain(r));
    assert.match(r.message ?? '', /^Invalid input 'vvpServiceConnection' 'https:\/\/vvp\.example\.com\/\?\*\*\*': a connection whose Server URL is the base URL only, without \?query or #fragment/);
    assert.ok(!r.message?.includes('connection-url-secret'), r.message);
  });

  it('a connection with a plain-http URL is refused before any call', async () => {
    const since = await rig.control.mark();
    const r = await run(connection('http://vvp.example.com'), { deployment: 'x' });
    assert.equal(r.result, 'Failed', explain(r));
    assert.match(r.message ?? '', /^Invalid input 'vvpServiceConnection' 'http:\/\/vvp\.example\.com\/': a connection whose Server URL is an https:\/\/ URL/);
    assert.deepEqual(await rig.control.requests({ since, scheme: 'https' }), []);
  });
});
