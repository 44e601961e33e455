/** What the blob client uses of @azure/storage-blob. Loaded through `libraries.ts` only. */
export { BlockBlobClient, newPipeline } from '@azure/storage-blob';
