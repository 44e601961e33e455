import type { DeployConfig } from '../../tasks/VvpDeploy/VvpDeployV1/inputs';

/** The fields a test sets. */
type DeployConfigOverrides = Partial<DeployConfig> & Pick<DeployConfig, 'deployment' | 'jarUri'>;

/**
 * A DeployConfig with the documented defaults of every input (as parseDeployInputs gives them
 * for a minimal step), for tests that drive the flow without the input layer. `artifact` is the
 * JAR of `jarUri` unless given.
 */
export function deployConfig(overrides: DeployConfigOverrides): DeployConfig {
  const fields = overrides;
  return {
    action: 'deploy',
    online: true,
    azureSubscription: 'arm',
    keyVaultName: 'kv-test',
    tokenSecretName: 'vvpAPIToken',
    access: { token: { kind: 'keyVault' } },
    namespace: 'default',
    deploymentIsId: false,
    jarUriSecrets: [],
    createIfMissing: true,
    waitForRunning: true,
    timeoutInMs: 15 * 60_000,
    pollIntervalInMs: 5000,
    rollbackOnFailure: false,
    healthCheckInMs: 0,
    maxJobRestarts: 0,
    rollbackStateFrom: 'upgradeSavepoint',
    annotateDeployment: true,
    runAnnotations: {},
    ...fields,
    artifact: overrides.artifact ?? { kind: 'JAR', jarUri: overrides.jarUri, additionalDependencies: [] },
  };
}
