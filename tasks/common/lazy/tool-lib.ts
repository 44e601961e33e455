/**
 * What the agent tool cache adapter uses of azure-pipelines-tool-lib. Loaded through
 * `libraries.ts` only. It shares the one task-lib instance of the task (see `.ci/build.mjs`).
 */
export { cacheFile, downloadTool, findLocalTool } from 'azure-pipelines-tool-lib/tool';
