/**
 * What the spec validation uses: ajv and the VVP Deployment schema shipped with the task (33 KB
 * of JSON). Only `action: plan` validates, so neither is parsed at start-up. Loaded through
 * `libraries.ts` only.
 */
export { default as Ajv } from 'ajv';
export { default as deploymentSchema } from '../vvp/deployment-schema.json';
