/**
 * In-memory state of the simulated AppManager, per namespace: deployments, jobs, events,
 * savepoints and deployment targets. Pure bookkeeping: HTTP semantics live in the API
 * routes, timing in the controller.
 */
import { createHash, randomUUID } from 'node:crypto';
import { notFound } from './api-error';
import type { Deployment, DeploymentTarget, Job, Savepoint, VvpEvent } from './resources';
import type { SimClock } from './sim-clock';

/** Name of the deployment target every namespace starts with. */
export const DEFAULT_TARGET_NAME = 'vvp-default';

/** How `{nameOrId}` in a deployment path is resolved. */
export type Addressing = 'nameOrId' | 'idOnly';

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True when `value` is a UUID in canonical text form. */
export function isUuid(value: string): boolean {
  return UUID_PATTERN.test(value);
}

/** A UUID derived from a string, so the default target id survives restarts and resets. */
export function stableUuid(seed: string): string {
  const hex = createHash('sha1').update(seed).digest('hex');
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

interface NamespaceData {
  deployments: Map<string, Deployment>;
  jobs: Map<string, Job>;
  events: VvpEvent[];
  savepoints: Map<string, Savepoint>;
  targets: Map<string, DeploymentTarget>;
  /** The deployment template each job was built from (jobs carry only `template.spec`). */
  jobTemplates: Map<string, unknown>;
}

/** All resources of the simulator. Returned objects are the stored ones: callers clone before exposing. */
export class SimStore {
  private readonly namespaces = new Map<string, NamespaceData>();

  /** @param clock Source of the timestamps the store writes (namespace targets, events). */
  constructor(private readonly clock: SimClock) {}

  /** Adds a namespace (with its `vvp-default` target) unless it exists. */
  addNamespace(name: string): void {
    if (this.namespaces.has(name)) return;
    const now = this.clock.isoNow();
    const target: DeploymentTarget = {
      kind: 'DeploymentTarget',
      apiVersion: 'v1',
      metadata: {
        id: stableUuid(`deployment-target/${name}/${DEFAULT_TARGET_NAME}`),
        name: DEFAULT_TARGET_NAME,
        namespace: name,
        createdAt: now,
        modifiedAt: now,
        labels: {},
        annotations: {},
        resourceVersion: 1,
      },
      spec: { kubernetes: { namespace: 'vvp-jobs' } },
    };
    this.namespaces.set(name, {
      deployments: new Map(),
      jobs: new Map(),
      events: [],
      savepoints: new Map(),
      targets: new Map([[target.metadata.id, target]]),
      jobTemplates: new Map(),
    });
  }

  /** Names of all namespaces. */
  namespaceNames(): string[] {
    return [...this.namespaces.keys()];
  }

  /** Removes every namespace and resource. */
  clear(): void {
    this.namespaces.clear();
  }

  private ns(namespace: string): NamespaceData {
    const data = this.namespaces.get(namespace);
    if (!data) throw notFound(`Namespace '${namespace}' does not exist.`);
    return data;
  }

  /**
   * @throws ApiError 404 when the namespace does not exist.
   */
  requireNamespace(namespace: string): void {
    this.ns(namespace);
  }

  /**
   * Finds a deployment the 2.4+ way: a UUID is tried as id first, then as name.
   * In `idOnly` mode (VVP 2.0–2.3) names do not resolve.
   */
  findDeployment(namespace: string, nameOrId: string, addressing: Addressing = 'nameOrId'): Deployment | undefined {
    const data = this.ns(namespace);
    if (isUuid(nameOrId)) {
      const byId = data.deployments.get(nameOrId.toLowerCase());
      if (byId) return byId;
    }
    if (addressing === 'idOnly') return undefined;
    return [...data.deployments.values()].find((d) => d.metadata.name === nameOrId);
  }

  /** A deployment by id in any state. */
  deploymentById(namespace: string, id: string): Deployment | undefined {
    return this.namespaces.get(namespace)?.deployments.get(id);
  }

  listDeployments(namespace: string): Deployment[] {
    return [...this.ns(namespace).deployments.values()];
  }

  putDeployment(deployment: Deployment): void {
    this.ns(deployment.metadata.namespace).deployments.set(deployment.metadata.id, deployment);
  }

  removeDeployment(namespace: string, id: string): void {
    this.ns(namespace).deployments.delete(id);
  }

  putJob(job: Job): void {
    this.ns(job.metadata.namespace).jobs.set(job.metadata.id, job);
  }

  /** Records the template a job was built from, to tell later whether it is up to date. */
  setJobTemplate(namespace: string, jobId: string, template: unknown): void {
    this.ns(namespace).jobTemplates.set(jobId, structuredClone(template));
  }

  jobTemplate(namespace: string, jobId: string): unknown {
    return this.ns(namespace).jobTemplates.get(jobId);
  }

  job(namespace: string, id: string): Job | undefined {
    return this.ns(namespace).jobs.get(id.toLowerCase());
  }

  /** Jobs in creation order, optionally of one deployment. */
  listJobs(namespace: string, deploymentId?: string): Job[] {
    return [...this.ns(namespace).jobs.values()].filter((j) => !deploymentId || j.metadata.deploymentId === deploymentId);
  }

  /** Appends an event (events are immutable once written). */
  addEvent(namespace: string, deploymentId: string, name: string, message: string, jobId?: string): VvpEvent {
    const event: VvpEvent = {
      kind: 'Event',
      apiVersion: 'v1',
      metadata: {
        id: randomUUID(),
        name,
        namespace,
        deploymentId,
        ...(jobId ? { jobId } : {}),
        createdAt: this.clock.isoNow(),
        resourceVersion: 1,
      },
      spec: { message },
    };
    this.ns(namespace).events.push(event);
    return event;
  }

  /** Events in creation order; no paging, as on VVP. */
  listEvents(namespace: string, filter: { deploymentId?: string; jobId?: string }): VvpEvent[] {
    return this.ns(namespace).events.filter(
      (e) =>
        (!filter.deploymentId || e.metadata.deploymentId === filter.deploymentId) &&
        (!filter.jobId || e.metadata.jobId === filter.jobId),
    );
  }

  putSavepoint(savepoint: Savepoint): void {
    this.ns(savepoint.metadata.namespace).savepoints.set(savepoint.metadata.id, savepoint);
  }

  savepoint(namespace: string, id: string): Savepoint | undefined {
    return this.ns(namespace).savepoints.get(id.toLowerCase());
  }

  listSavepoints(namespace: string, filter: { deploymentId?: string; jobId?: string }): Savepoint[] {
    return [...this.ns(namespace).savepoints.values()].filter(
      (s) =>
        (!filter.deploymentId || s.metadata.deploymentId === filter.deploymentId) &&
        (!filter.jobId || s.metadata.jobId === filter.jobId),
    );
  }

  listTargets(namespace: string): DeploymentTarget[] {
    return [...this.ns(namespace).targets.values()];
  }

  /** A deployment target by name, or by id (UUID tried as id first). */
  findTarget(namespace: string, nameOrId: string): DeploymentTarget | undefined {
    const data = this.ns(namespace);
    if (isUuid(nameOrId)) {
      const byId = data.targets.get(nameOrId.toLowerCase());
      if (byId) return byId;
    }
    return [...data.targets.values()].find((t) => t.metadata.name === nameOrId);
  }
}
