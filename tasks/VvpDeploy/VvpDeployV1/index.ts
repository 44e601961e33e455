/**
 * VvpDeploy@1 entry: parse inputs, resolve the VVP address and token, run the flow, publish
 * outputs and the run summary. Everything else lives in the task-lib-free core.
 */
import * as fs from 'node:fs';
import { createAzureCredential } from '../../common/azure/credential';
import { NetworkAgents } from '../../common/http/network';
import { KeyVaultSecretReader, keyVaultUrl } from '../../common/keyvault/secret-reader';
import { inGroup } from '../../common/logging/logger';
import {
  readAzureRmConnection,
  readInput,
  readNetworkSettings,
  readVariable,
  registerSecret,
  runTask,
  setOutput,
  uploadSummary,
} from '../../common/pipeline/pipeline-agent';
import { systemClock } from '../../common/poll/clock';
import { VvpClient } from '../../common/vvp/client';
import { resolveVvpAccess } from './access';
import { newDeployReport, runDeploy } from './deploy';
import { parseDeployInputs } from './inputs';
import { deployOutputs, renderSummary } from './summary';

runTask(async ({ logger, signal }) => {
  const config = parseDeployInputs(readInput, {
    readVariable,
    readTextFile: (file) => fs.readFileSync(file, 'utf8'),
    isDirectory: (file) => fs.statSync(file, { throwIfNoEntry: false })?.isDirectory() ?? false,
  });
  const connection = readAzureRmConnection('azureSubscription');
  const agents = new NetworkAgents(readNetworkSettings());
  const report = newDeployReport(config, systemClock);
  let flowStarted = false;
  try {
    const credential = createAzureCredential(connection, { agents, onSecret: registerSecret });
    const secrets = new KeyVaultSecretReader(keyVaultUrl(config.keyVaultName, connection.cloud.keyVaultSuffix), credential, { agents });
    const access = await inGroup(logger, 'Read the VVP API token', () =>
      resolveVvpAccess(config, { secrets, registerSecret, logger, abortSignal: signal }),
    );
    try {
      const vvp = new VvpClient(access.baseUrl, access.token, { agents, logger, tokenSource: access.tokenSource, userAgent: 'vvp-azure-pipelines VvpDeploy/1' });
      flowStarted = true;
      const message = await runDeploy(config, { vvp, clock: systemClock, logger, abortSignal: signal }, report);
      return { message };
    } finally {
      await access.dispose();
    }
  } finally {
    for (const [name, value] of Object.entries(deployOutputs(report))) setOutput(name, value);
    if (flowStarted) {
      try {
        uploadSummary('vvp-deploy', renderSummary(report));
      } catch (error) {
        logger.warn(`Could not attach the run summary: ${(error as Error).message}`);
      }
    }
    agents.destroy();
  }
});
