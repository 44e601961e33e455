/**
 * VvpDeploy@1 entry: parse inputs, resolve the VVP address and token, run the flow, publish
 * outputs and the run summary. Everything else lives in the task-lib-free core.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { createAzureCredential } from '../../common/azure/credential';
import { isAbortError } from '../../common/errors/errors';
import { NetworkAgents } from '../../common/http/network';
import {
  agentToolCache,
  errorAnnotation,
  findFiles,
  readAzureRmConnection,
  readInput,
  readNetworkSettings,
  readVariable,
  readVvpConnectionNamespace,
  readVvpServiceConnection,
  registerSecret,
  runTask,
  setOutput,
  uploadSummary,
} from '../../common/pipeline/pipeline-agent';
import { systemClock } from '../../common/poll/clock';
import { VvpClient } from '../../common/vvp/client';
import { resolveVvpAccess, type VvpAccess } from './access';
import { runPlan } from './plan';
import { runAction } from './action';
import type { DeployResult } from './deploy-result';
import { parseDeployInputs } from './inputs';
import { deployOutputs, renderSummary } from './summary';

runTask(async ({ logger, signal }) => {
  const config = parseDeployInputs(readInput, {
    readVariable,
    readTextFile: (file) => fs.readFileSync(file, 'utf8'),
    readFile: (file) => fs.readFileSync(file),
    findFiles,
    isDirectory: (file) => fs.statSync(file, { throwIfNoEntry: false })?.isDirectory() ?? false,
    readConnectionNamespace: readVvpConnectionNamespace,
  });
  for (const secret of config.jarUriSecrets) registerSecret(secret);
  const agents = new NetworkAgents(readNetworkSettings());
  let result: DeployResult | undefined;
  let vvpUrl = '';
  try {
    const flow = { clock: systemClock, logger, registerSecret, abortSignal: signal };
    if (config.action === 'plan' && !config.online) {
      result = await runPlan(config, flow);
    } else {
      let access: VvpAccess | undefined;
      try {
        access = await resolveVvpAccess(config, {
          azure: once(() => {
            const connection = readAzureRmConnection(config.azureSubscription);
            return { connection, credential: createAzureCredential(connection, { agents, onSecret: registerSecret }) };
          }),
          readVvpConnection: (urlRules) => readVvpServiceConnection(config.access.token.kind === 'serviceConnection' ? config.access.token.connection : '', urlRules),
          agents,
          toolCache: agentToolCache,
          tempDirectory: readVariable('Agent.TempDirectory') ?? os.tmpdir(),
          registerSecret,
          logger,
          abortSignal: signal,
        });
      } catch (error) {
        // A pull-request build often has no access to the vault: its plan still runs offline.
        if (config.action !== 'plan' || isAbortError(error)) throw error;
        result = await runPlan(config, { ...flow, offlineReason: `the token source failed: ${(error as Error).message}` });
      }
      if (access) {
        vvpUrl = access.publicUrl?.href.replace(/\/+$/, '') ?? '';
        try {
          const vvp = new VvpClient(access.baseUrl, access.token, {
            agents,
            logger,
            tokenSource: access.tokenSource,
            userAgent: 'vvp-azure-pipelines VvpDeploy/1',
            allowInsecureHttp: config.allowInsecureHttp,
            connectionLost: access.connectionLost,
          });
          result = await runAction(config, { ...flow, vvp });
        } finally {
          await access.dispose();
        }
      }
    }
  } finally {
    // Problems of a SQL script go on the file's lines, where a pull request shows them.
    for (const problem of result?.sqlProblems?.problems ?? []) console.log(errorAnnotation(problem, result?.sqlProblems?.file ?? ''));
    if (result) {
      for (const [name, output] of Object.entries(deployOutputs(result))) setOutput(name, output.value, output.secret);
      try {
        uploadSummary('Ververica Platform deployment', renderSummary(result, vvpUrl));
      } catch (error) {
        logger.warn(`Could not attach the run summary: ${(error as Error).message}`);
      }
    }
    agents.destroy();
  }
  if (!result) throw new Error('the flow ended without a result');
  if (result.error) throw result.error;
  return { message: result.message, withIssues: result.withIssues };
});

/** The AzureRM connection is read only when Key Vault or AKS need it, and then once. */
function once<T>(make: () => T): () => T {
  let value: { v: T } | undefined;
  return () => (value ??= { v: make() }).v;
}
