/** What the spec-file and kubeconfig readers use of yaml. Loaded through `libraries.ts` only. */
export { parse, parseAllDocuments, stringify } from 'yaml';
