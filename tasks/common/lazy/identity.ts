/** The @azure/identity credentials the credential factory builds. Loaded through `libraries.ts` only. */
export { ClientAssertionCredential, ClientCertificateCredential, ClientSecretCredential, ManagedIdentityCredential } from '@azure/identity';
