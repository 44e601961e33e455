/**
 * VVP serialises its resources with Jackson, which writes unset optional fields as explicit
 * `null`s: deployment-level events carry `"jobId": null`, a job that never failed
 * `"failure": null`, a deployment without a target name `"deploymentTargetName": null` (a
 * recorded VVP 2.6 answer carries such nulls). With the simulator's `explicitNulls` setting
 * every answer gets them, so clients are tested against what VVP really sends.
 */
import { isPlainObject } from './plain-object';

type Json = Record<string, unknown>;

/** Optional fields VVP's resources declare, by kind: `path` → written as null when absent. */
const OPTIONAL_FIELDS: Record<string, readonly string[]> = {
  Deployment: [
    'metadata.displayName',
    'metadata.labels',
    'spec.deploymentTargetName',
    'spec.deploymentTargetId',
    'spec.sessionClusterName',
    'spec.maxSavepointCreationAttempts',
    'spec.template.spec.artifact.entryClass',
    'spec.template.spec.artifact.mainArgs',
    'spec.template.spec.artifact.additionalDependencies',
    'spec.template.spec.artifact.flinkImageRegistry',
    'spec.template.spec.logging',
    'status.running',
  ],
  Job: ['status.failure', 'status.started', 'metadata.terminatedAt', 'spec.savepointLocation'],
  Savepoint: ['metadata.jobId', 'status.failure', 'spec.flinkSavepointId'],
  Event: ['metadata.jobId', 'metadata.deploymentId'],
};

/** `body` (one resource or a `ResourceList`) with every absent optional field written as null. */
export function withJacksonNulls(body: unknown): unknown {
  if (!isPlainObject(body)) return body;
  if (Array.isArray(body.items)) return { ...body, items: body.items.map((item) => withJacksonNulls(item)) };
  const fields = typeof body.kind === 'string' ? OPTIONAL_FIELDS[body.kind] : undefined;
  if (!fields) return body;
  const out = structuredClone(body) as Json;
  for (const path of fields) setNullWhenAbsent(out, path.split('.'));
  return out;
}

/** Sets the last key of `path` to null when its parent exists and the key does not. */
function setNullWhenAbsent(root: Json, path: string[]): void {
  let current: unknown = root;
  for (const key of path.slice(0, -1)) {
    if (!isPlainObject(current)) return;
    current = current[key];
  }
  const last = path[path.length - 1];
  if (isPlainObject(current) && !(last in current)) current[last] = null;
}
