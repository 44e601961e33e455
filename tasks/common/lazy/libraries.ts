/**
 * The large third-party libraries, each loaded on first use. A step spends most of its start-up
 * loading code: a task that fails on its inputs, or takes a path that needs no Key Vault or no
 * AKS, must not pay for loading them. Each getter requires one facade module beside this file
 * (the part of the library the code uses); `.ci/build.mjs` keeps those facades out of the
 * start-up code of the bundle and compiles them the first time a getter runs.
 *
 * Import the library's types with `import type` where needed; call these for values.
 */
import type * as DeploymentValidation from './deployment-validation';
import type * as Identity from './identity';
import type * as KeyVaultSecrets from './keyvault-secrets';
import type * as StorageBlob from './storage-blob';
import type * as ToolLib from './tool-lib';
import type * as Yaml from './yaml';

/* eslint-disable @typescript-eslint/no-require-imports */

/** `BlockBlobClient`, `newPipeline` of @azure/storage-blob. */
export function storageBlob(): typeof StorageBlob {
  return require('./storage-blob') as typeof StorageBlob;
}

/** The credential classes of @azure/identity. */
export function identity(): typeof Identity {
  return require('./identity') as typeof Identity;
}

/** `SecretClient` of @azure/keyvault-secrets. */
export function keyVaultSecrets(): typeof KeyVaultSecrets {
  return require('./keyvault-secrets') as typeof KeyVaultSecrets;
}

/** The agent tool cache functions of azure-pipelines-tool-lib (it reads the proxy settings when loaded). */
export function toolLib(): typeof ToolLib {
  return require('./tool-lib') as typeof ToolLib;
}

/** ajv and the VVP Deployment schema, for `action: plan`. */
export function deploymentValidation(): typeof DeploymentValidation {
  return require('./deployment-validation') as typeof DeploymentValidation;
}

/** `parse`, `parseAllDocuments`, `stringify` of yaml. */
export function yaml(): typeof Yaml {
  return require('./yaml') as typeof Yaml;
}
