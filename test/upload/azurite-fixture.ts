/**
 * An Azurite blob service for the upload integration tests: the rig's HTTPS Azurite, reached
 * path-style (`https://127.0.0.1:<port>/<account>`) with a shared key, through a
 * NetworkAgents agent that trusts the rig's test CA, as the task's agent would.
 */
import * as fs from 'node:fs';
import type * as http from 'node:http';
import * as https from 'node:https';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { NetworkAgents } from '../../tasks/common/http/network';
import { startAzurite, type AzuriteHandle } from '../rig/azurite';
import { tlsFiles } from '../rig/tls-files';

export interface AzuriteFixture {
  accountName: string;
  accountKey: string;
  /** `https://127.0.0.1:<port>/<account>`, the blob endpoint. */
  accountUrl: string;
  credential: StorageSharedKeyCredential;
  /** The agent the task code gets (test CA trusted). */
  agent: https.Agent;
  /** Plain SDK client for setting up and inspecting state. */
  service: BlobServiceClient;
  stop(): Promise<void>;
}

export async function startAzuriteFixture(): Promise<AzuriteFixture> {
  const azurite: AzuriteHandle = await startAzurite({ accountName: 'vvpstorage' });
  const agents = new NetworkAgents({ proxyBypass: [], caFile: tlsFiles().caCert });
  const accountUrl = `https://127.0.0.1:${azurite.port}/${azurite.accountName}`;
  const agent = agents.agentFor(accountUrl) as https.Agent;
  const credential = new StorageSharedKeyCredential(azurite.accountName, azurite.accountKey);
  const service = new BlobServiceClient(accountUrl, credential, { agent } as object);
  return {
    accountName: azurite.accountName,
    accountKey: azurite.accountKey,
    accountUrl,
    credential,
    agent,
    service,
    stop: async () => {
      agents.destroy();
      await azurite.stop();
    },
  };
}

/** HTTP requests seen by an agent: block PUTs, single-shot PUTs, and the most in flight at once. */
export interface RequestCounter {
  /** Every request, as `METHOD ?comp=…` (`METHOD blob` without `comp`), in order. */
  requests: string[];
  stageBlockRequests: number;
  /** Block PUTs that carried a per-block Content-MD5. */
  stageBlocksWithMd5: number;
  singleShotPuts: number;
  inFlightStageBlocks: number;
  maxInFlightStageBlocks: number;
}

/**
 * A fresh agent like the fixture's (test CA trusted) that counts requests as they are handed to
 * it. Counting at the agent sees exactly what goes on the wire, retries included.
 */
export function countingAgent(): { agent: https.Agent; counter: RequestCounter } {
  const agent = new https.Agent({ keepAlive: true, maxSockets: 64, ca: fs.readFileSync(tlsFiles().caCert) });
  const counter: RequestCounter = { requests: [], stageBlockRequests: 0, stageBlocksWithMd5: 0, singleShotPuts: 0, inFlightStageBlocks: 0, maxInFlightStageBlocks: 0 };
  const withAddRequest = agent as unknown as { addRequest(req: http.ClientRequest, options: unknown): void };
  const original = withAddRequest.addRequest.bind(agent);
  withAddRequest.addRequest = (req, options) => {
    const comp = new URL(req.path, 'https://x').searchParams.get('comp');
    counter.requests.push(`${req.method} ${comp ? `?comp=${comp}` : 'blob'}`);
    if (req.method === 'PUT' && comp === 'block') {
      counter.stageBlockRequests++;
      if (req.getHeader('content-md5') !== undefined) counter.stageBlocksWithMd5++;
      counter.inFlightStageBlocks++;
      counter.maxInFlightStageBlocks = Math.max(counter.maxInFlightStageBlocks, counter.inFlightStageBlocks);
      req.once('close', () => counter.inFlightStageBlocks--);
    } else if (req.method === 'PUT' && comp === null) {
      counter.singleShotPuts++;
    }
    original(req, options);
  };
  return { agent, counter };
}
