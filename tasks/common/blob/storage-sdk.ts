/**
 * The parts of @azure/storage-blob the blob client uses. Required lazily (see
 * `BlobArtifactClient`): the bundle then evaluates the SDK only when a blob is touched, and a
 * static import here still lets the bundler drop what is not used.
 */
export { BlockBlobClient, newPipeline } from '@azure/storage-blob';
