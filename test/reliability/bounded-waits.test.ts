/**
 * Every outbound call is bounded: Entra ID, Key Vault, Blob Storage and VVP endpoints that
 * accept the connection and never answer make the real clients fail within their bound, with a
 * message naming the host; and a VVP that hangs during the wait cannot stretch the wait past
 * `timeoutMinutes` by its per-request retries. In-process with short bounds (the production
 * defaults are tens of seconds), through the rig's proxy and the VVP simulator.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { StorageSharedKeyCredential } from '@azure/storage-blob';
import { resolveCloud } from '../../tasks/common/azure/cloud';
import { createAzureCredential, type AzureRmConnection } from '../../tasks/common/azure/credential';
import { BlobArtifactClient } from '../../tasks/common/blob/blob-artifact-client';
import { ServiceError } from '../../tasks/common/errors/errors';
import { NetworkAgents } from '../../tasks/common/http/network';
import { KeyVaultSecretReader, keyVaultUrl } from '../../tasks/common/keyvault/secret-reader';
import { MemoryLogger } from '../support/memory-logger';
import { systemClock } from '../../tasks/common/poll/clock';
import { VvpClient } from '../../tasks/common/vvp/client';
import { VvpApiError, WaitTimeoutError } from '../../tasks/common/vvp/errors';
import { runAction } from '../../tasks/VvpDeploy/VvpDeployV1/action';
import type { DeployConfig } from '../../tasks/VvpDeploy/VvpDeployV1/inputs';
import { deployConfig } from '../deploy/deploy-config';
import { RIG_DEFAULTS as D } from '../rig/config';
import { jarFor, requireSim, seed, startBench, type Bench } from './bench';

const cloud = resolveCloud({});
const connection: AzureRmConnection = {
  name: D.serviceConnectionName,
  scheme: 'ServicePrincipal',
  authenticationType: 'spnKey',
  tenantId: D.tenantId,
  clientId: D.clientId,
  clientSecret: D.clientSecret,
  cloud,
};

/** Notes when the wait began and when a probe first came back unanswered, to measure overruns. */
class WaitStartLogger extends MemoryLogger {
  waitStartedAt = 0;
  unansweredAt = 0;
  override info(message: string): void {
    if (message.startsWith('Waiting up to')) this.waitStartedAt = Date.now();
    if (/status unreadable/.test(message) && this.unansweredAt === 0) this.unansweredAt = Date.now();
    super.info(message);
  }
}

async function elapsed<T>(work: () => Promise<T>): Promise<{ ms: number; error: unknown }> {
  const started = Date.now();
  try {
    await work();
    return { ms: Date.now() - started, error: undefined };
  } catch (error) {
    return { ms: Date.now() - started, error };
  }
}

describe('bounded waits of the real clients', () => {
  let bench: Bench;
  let agents: NetworkAgents;
  const hang = async (host: RegExp, method: string, extra: { path?: RegExp; skip?: number } = {}): Promise<void> => {
    await bench.rig.control.addFault({ host, method, count: 0, ...extra, action: { kind: 'hang' } });
  };

  before(async () => {
    bench = await startBench();
    // Blob requests only need a route to reach the proxy's fault rules (they never get further).
    await bench.rig.control.addRoute({ host: '*.blob.core.windows.net', target: requireSim(bench).url });
    agents = new NetworkAgents({ proxyUrl: bench.rig.proxyUrl, proxyBypass: [], caFile: bench.rig.caFile });
  });
  after(async () => {
    agents?.destroy();
    await bench?.stop();
  });

  it('a token endpoint that never answers fails within the bound, naming login.microsoftonline.com', async () => {
    await hang(/^login\.microsoftonline\.com$/, 'POST');
    try {
      const credential = createAzureCredential(connection, { agents, onSecret: () => undefined, timeoutInMs: 1000, retry: { maxRetries: 1, retryDelayInMs: 20 } });
      const reader = new KeyVaultSecretReader(keyVaultUrl(D.vaultName, cloud.keyVaultSuffix), credential, { agents });
      const { ms, error } = await elapsed(() => reader.getSecret(D.tokenSecretName));
      assert.ok(error instanceof ServiceError, String(error));
      assert.match(error.message, /^Microsoft Entra ID: getting a token for Azure Key Vault .* failed: no_answer: no answer from login\.microsoftonline\.com within 1 s \(2 tries\)\. Check that the agent can reach/);
      assert.ok(ms < 10_000, `${ms} ms (2 tries of 1 s; without a bound it would never end)`);
      // (A try may time out before its request even reached the proxy, on a busy machine.)
      const tries = (await bench.rig.control.requests({ host: /^login\./, method: 'POST' })).filter((r) => r.scheme === 'https');
      assert.ok(tries.length >= 1 && tries.every((r) => r.status === undefined), 'the token requests went unanswered');
    } finally {
      await bench.rig.control.clearFaults();
    }
  });

  it('a key vault that never answers fails within the bound, naming the vault host', async () => {
    await hang(/^my-keyvault\.vault\.azure\.net$/, 'GET', { skip: 1 });
    try {
      const credential = createAzureCredential(connection, { agents, onSecret: () => undefined });
      const reader = new KeyVaultSecretReader(keyVaultUrl(D.vaultName, cloud.keyVaultSuffix), credential, {
        agents,
        tryTimeoutInMs: 1000,
        clientOptions: { retryOptions: { maxRetries: 1, retryDelayInMs: 20 } },
      });
      const { ms, error } = await elapsed(() => reader.getSecret(D.tokenSecretName));
      assert.ok(error instanceof ServiceError, String(error));
      assert.match(error.message, /^Azure Key Vault: reading secret 'vvpAPIToken' from Key Vault my-keyvault\.vault\.azure\.net failed: ETIMEDOUT: no answer from my-keyvault\.vault\.azure\.net within 1 s\. Check that the agent can reach my-keyvault\.vault\.azure\.net/);
      assert.ok(ms < 10_000, `${ms} ms (2 tries of 1 s; without a bound it would never end)`);
    } finally {
      await bench.rig.control.clearFaults();
    }
  });

  it('a blob endpoint that never answers fails within the bound, naming the account host', async () => {
    await hang(/^vvpstorage\.blob\.core\.windows\.net$/, 'HEAD');
    try {
      const client = new BlobArtifactClient('https://vvpstorage.blob.core.windows.net', new StorageSharedKeyCredential(D.storageAccount, D.storageAccountKey), {
        agent: agents.agentFor('https://vvpstorage.blob.core.windows.net'),
        retry: { maxTries: 2, tryTimeoutInMs: 800, retryDelayInMs: 20 },
      });
      const { ms, error } = await elapsed(() => client.getBlob({ container: 'vvp', name: 'artifacts/namespaces/default/app.jar' }));
      assert.ok(error instanceof ServiceError, String(error));
      assert.match(error.message, /^Azure Blob Storage: reading the properties of blob .* failed after 2 attempts: ETIMEDOUT: no answer from vvpstorage\.blob\.core\.windows\.net within 1 s\. Check that the agent can reach vvpstorage\.blob\.core\.windows\.net/);
      assert.ok(ms < 10_000, `${ms} ms (2 tries of 1 s; without a bound it would never end)`);
    } finally {
      await bench.rig.control.clearFaults();
    }
  });

  it('a VVP that never answers fails the read within the bound, naming vvp.example.com', async () => {
    await hang(/^vvp\.example\.com$/, 'GET');
    try {
      const vvp = new VvpClient('https://vvp.example.com', D.vvpApiToken, { agents, timeoutInMs: 1000, retry: { maxAttempts: 2, baseDelayInMs: 20, maxDelayInMs: 40 } });
      const { ms, error } = await elapsed(() => vvp.getDeployment('default', 'top-speed-windowing'));
      assert.ok(error instanceof VvpApiError, String(error));
      assert.match(error.message, /^Ververica Platform: reading deployment 'top-speed-windowing' in namespace 'default' failed after 2 attempts: no answer from vvp\.example\.com within 1 s\. Check that the agent can reach vvp\.example\.com/);
      assert.ok(ms < 10_000, `${ms} ms (2 tries of 1 s; without a bound it would never end)`);
    } finally {
      await bench.rig.control.clearFaults();
    }
  });

  it('a VVP that hangs during the wait ends it at the timeout plus one poll interval, not minutes of retries later', async () => {
    const name = 'hangs-mid-wait';
    const id = await seed(bench, name, { behaviour: { staleRunningMs: 60_000 } });
    // The first probe answers; every later read of the deployment hangs (default client bounds: 30 s x 4 attempts).
    await hang(/^vvp\.example\.com$/, 'GET', { path: new RegExp(`/deployments/${id}$`), skip: 1 });
    try {
      const config: DeployConfig = deployConfig({
        keyVaultName: D.vaultName,
        tokenSecretName: D.tokenSecretName,
        vvpUrl: new URL('https://vvp.example.com'),
        deployment: name,
        jarUri: jarFor('b0b0b0b'),
        createIfMissing: false,
        timeoutInMs: 2000,
        pollIntervalInMs: 1000,
      });
      const logger = new WaitStartLogger();
      const vvp = new VvpClient('https://vvp.example.com', D.vvpApiToken, { agents, logger });
      let report: Awaited<ReturnType<typeof runAction>> | undefined;
      await elapsed(async () => {
        report = await runAction(config, { vvp, clock: systemClock, logger, registerSecret: () => undefined });
      });
      const error = report?.error;
      assert.ok(error instanceof WaitTimeoutError, `${String(error)}\n${logger.lines.join('\n')}`);
      assert.match(error.message, /Timed out after 2 s/);
      assert.match(error.message, /status unreadable \(ECONNABORTED|ETIMEDOUT|network error\)/);
      // The hung probe is cut at the deadline plus the grace (1 s); reading events and jobs for
      // the message follows. Without the bound the probe alone would take 4 x 30 s.
      const probeOverrun = logger.unansweredAt - logger.waitStartedAt - config.timeoutInMs;
      assert.ok(probeOverrun < 4000, `the hung probe returned ${probeOverrun} ms after the timeout (grace 1 s)`);
      const overrun = Date.now() - logger.waitStartedAt - config.timeoutInMs;
      assert.ok(overrun < 12_000, `the step ended ${overrun} ms after the timeout`);
      assert.equal(report?.outcome, 'timedOut');
    } finally {
      await bench.rig.control.clearFaults();
    }
  });

});
