/** What the Key Vault reader uses of @azure/keyvault-secrets. Loaded through `libraries.ts` only. */
export { SecretClient } from '@azure/keyvault-secrets';
