/** VvpUploadArtifact@1 entry: read the agent's inputs, run the upload, set the outputs. */
import { createAzureCredential } from '../../common/azure/credential';
import { NetworkAgents } from '../../common/http/network';
import {
  findFiles,
  readAzureRmConnection,
  readInput,
  readNetworkSettings,
  readVariable,
  registerSecret,
  runTask,
  setOutput,
  uploadSummary,
} from '../../common/pipeline/pipeline-agent';
import { parseUploadInputs } from './inputs';
import { renderUploadSummary, UPLOAD_SUMMARY_TITLE } from './summary';
import { uploadArtifact } from './upload-artifact';

runTask(async ({ logger, signal }) => {
  const config = parseUploadInputs(readInput, readVariable);
  const connection = readAzureRmConnection(config.azureSubscription);
  const agents = new NetworkAgents(readNetworkSettings());
  try {
    const credential = createAzureCredential(connection, { agents, onSecret: registerSecret });
    const { outputs, message, report } = await uploadArtifact(config, {
      credential,
      storageSuffix: connection.cloud.storageSuffix,
      agentFor: (url) => agents.agentFor(url),
      findFiles,
      logger,
      abortSignal: signal,
    });
    setOutput('jarUri', outputs.jarUri);
    setOutput('blobUrl', outputs.blobUrl);
    setOutput('sha256', outputs.sha256);
    setOutput('uploaded', outputs.uploaded);
    try {
      uploadSummary(UPLOAD_SUMMARY_TITLE, renderUploadSummary(report));
    } catch (error) {
      // The blob is in place and the outputs are set: a summary that cannot be attached is no failure.
      logger.warn(`Could not attach the run summary: ${(error as Error).message}`);
    }
    return { message };
  } finally {
    // Keep-alive sockets would hold the process open after the result is reported.
    agents.destroy();
  }
});
