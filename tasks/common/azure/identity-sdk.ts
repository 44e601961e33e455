/**
 * The credentials of @azure/identity the credential factory builds. Required lazily (see
 * `createAzureCredential`): the bundle then evaluates the library only when a credential is
 * made, and a static import here still lets the bundler drop what is not used.
 */
export { ClientAssertionCredential, ClientCertificateCredential, ClientSecretCredential, ManagedIdentityCredential } from '@azure/identity';
