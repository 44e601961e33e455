/**
 * The public contract of both tasks (input and output names, types, defaults), written down
 * once from the product spec. Names are API: YAML users type them, so a rename breaks pipelines.
 */
export interface InputContract {
  name: string;
  type: string;
  /** undefined: no default expected; '' means an explicit empty default. */
  defaultValue?: string;
  required?: boolean;
}

export interface TaskContract {
  folder: string;
  name: string;
  inputs: InputContract[];
  outputs: string[];
}

export const UPLOAD_CONTRACT: TaskContract = {
  folder: 'tasks/VvpUploadArtifact/VvpUploadArtifactV1',
  name: 'VvpUploadArtifact',
  inputs: [
    { name: 'azureSubscription', type: 'connectedService:AzureRM', required: true },
    { name: 'storageAccount', type: 'pickList', required: true },
    { name: 'containerName', type: 'pickList', required: true },
    { name: 'namespace', type: 'string', defaultValue: 'default' },
    { name: 'artifactPath', type: 'multiLine', required: true },
    { name: 'blobName', type: 'string', defaultValue: '' },
    { name: 'overwrite', type: 'pickList', defaultValue: 'ifChanged' },
    { name: 'blobEndpoint', type: 'string', defaultValue: '' },
  ],
  outputs: ['jarUri', 'blobUrl', 'sha256', 'uploaded'],
};

export const DEPLOY_CONTRACT: TaskContract = {
  folder: 'tasks/VvpDeploy/VvpDeployV1',
  name: 'VvpDeploy',
  inputs: [
    { name: 'action', type: 'pickList', defaultValue: 'deploy' },
    // Required except with action: plan (1.1), which runs offline without them.
    { name: 'azureSubscription', type: 'connectedService:AzureRM' },
    { name: 'keyVaultName', type: 'pickList' },
    { name: 'tokenSecretName', type: 'string', defaultValue: 'vvpAPIToken' },
    { name: 'vvpUrl', type: 'string', defaultValue: '' },
    { name: 'namespace', type: 'string', defaultValue: 'default' },
    { name: 'deployment', type: 'pickList', required: true },
    { name: 'jarUri', type: 'string', defaultValue: '' },
    { name: 'deploymentSpecFile', type: 'filePath', defaultValue: '' },
    // 1.2: SQL deployments.
    { name: 'sqlScriptFile', type: 'filePath', defaultValue: '' },
    { name: 'additionalDependencies', type: 'multiLine', defaultValue: '' },
    { name: 'sqlCatalog', type: 'string', defaultValue: '' },
    { name: 'sqlDatabase', type: 'string', defaultValue: '' },
    { name: 'deploymentTargetId', type: 'string', defaultValue: '' },
    { name: 'commitId', type: 'string', defaultValue: '$(Build.SourceVersion)' },
    { name: 'createIfMissing', type: 'boolean', defaultValue: 'true' },
    { name: 'waitForRunning', type: 'boolean', defaultValue: 'true' },
    // 1.1: decimals (0.5 is 30 s), so a string the task parses.
    { name: 'timeoutMinutes', type: 'string', defaultValue: '15' },
    { name: 'pollIntervalSeconds', type: 'int', defaultValue: '5' },
    { name: 'rollbackOnFailure', type: 'boolean', defaultValue: 'false' },
    { name: 'healthCheckSeconds', type: 'string', defaultValue: '0' },
    { name: 'maxJobRestarts', type: 'string', defaultValue: '0' },
    { name: 'upgradeStrategy', type: 'pickList', defaultValue: '' },
    { name: 'restoreStrategy', type: 'pickList', defaultValue: '' },
    { name: 'rollbackStateFrom', type: 'pickList', defaultValue: 'upgradeSavepoint' },
    { name: 'annotateDeployment', type: 'boolean', defaultValue: 'true' },
    { name: 'tokenSource', type: 'pickList', defaultValue: 'keyVault' },
    { name: 'vvpServiceConnection', type: 'connectedService:VervericaPlatform' },
    { name: 'accessMode', type: 'pickList', defaultValue: 'direct' },
    { name: 'allowInsecureHttp', type: 'boolean', defaultValue: 'false' },
    { name: 'aksResourceGroup', type: 'pickList' },
    { name: 'aksCluster', type: 'pickList' },
    { name: 'kubernetesNamespace', type: 'string', defaultValue: 'vvp' },
    { name: 'vvpServiceName', type: 'string', defaultValue: 'vvp-ververica-platform' },
    { name: 'vvpServicePort', type: 'int', defaultValue: '80' },
    { name: 'kubectlVersion', type: 'string' },
    { name: 'kubectlDownloadUrl', type: 'string', defaultValue: 'https://dl.k8s.io' },
  ],
  outputs: ['deploymentId', 'jobId', 'state', 'jarUri', 'previousJarUri', 'rolledBack', 'savepointId', 'savepointLocation', 'restoredFrom', 'restartRequired', 'planChanges', 'sqlScriptSha256'],
};

export const CONTRACTS: readonly TaskContract[] = [UPLOAD_CONTRACT, DEPLOY_CONTRACT];
