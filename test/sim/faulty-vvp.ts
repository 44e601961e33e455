/**
 * The in-memory VVP behind a seeded fault schedule, as the `VvpApi` the flows use: any call may
 * hang until the request timeout (or the caller's deadline), answer 429/5xx (what VvpClient
 * throws once its retries are used up), be reset before it is sent, be applied with its answer
 * lost, answer late, or (rarely, when the plan allows) get a 404 from something that is not VVP
 * (an ingress page). Answers may carry `null` for optional fields that are absent, as VVP's
 * Jackson serialisation does. Required ids are never touched.
 *
 * The faults are the in-memory VVP's own fault rules, added right before the call they apply to
 * (the call takes its rule synchronously, so concurrent calls cannot swap them).
 */
import type { VvpApi, VvpRequestOptions } from '../../tasks/common/vvp/vvp-api';
import { withoutNulls, type Deployment, type Job, type JsonObject, type Savepoint, type VvpEvent } from '../../tasks/common/vvp/resources';
import type { InMemoryVvp } from '../support/in-memory-vvp';
import type { FaultKind, FaultPlan } from './scenario';
import type { Rng } from './rng';

/** What an ingress or a wrong path answers: a 404 that is not VVP's. */
const INGRESS_404 = '<html><body><h1>404 Not Found</h1>nginx</body></html>';

type Kind = 'deployment' | 'job' | 'event' | 'savepoint';

/** One fault the wrapper injected, for the failure report. */
export interface InjectedFault {
  atMs: number;
  call: string;
  fault: string;
}

export class FaultyVvp implements VvpApi {
  readonly injected: InjectedFault[] = [];
  private readonly nullPaths: Map<Kind, string[][]>;
  private firstReadDone = false;

  constructor(
    private readonly inner: InMemoryVvp,
    private readonly rng: Rng,
    private readonly plan: FaultPlan,
  ) {
    this.nullPaths = new Map();
    for (const entry of plan.nullPaths) {
      const [kind, path] = entry.split(':') as [Kind, string];
      this.nullPaths.set(kind, [...(this.nullPaths.get(kind) ?? []), path.split('.')]);
    }
  }

  async getDeployment(namespace: string, nameOrId: string, options?: VvpRequestOptions): Promise<Deployment | undefined> {
    if (this.plan.firstRead404 && !this.firstReadDone) this.install('GET', 'getDeployment', 'ingress404', { action: 'status', status: 404, body: INGRESS_404 });
    else this.maybeFault('GET', 'getDeployment', true);
    this.firstReadDone = true;
    return this.nulls('deployment', await this.inner.getDeployment(namespace, nameOrId, options));
  }

  async listDeployments(namespace: string, options?: VvpRequestOptions): Promise<Deployment[]> {
    this.maybeFault('GET', 'listDeployments');
    return (await this.inner.listDeployments(namespace, options)).map((d) => this.nulls('deployment', d) as Deployment);
  }

  validateSqlScript(...args: Parameters<VvpApi['validateSqlScript']>): ReturnType<VvpApi['validateSqlScript']> {
    this.maybeFault('POST', 'validateSqlScript');
    return this.inner.validateSqlScript(...args);
  }

  async createDeployment(namespace: string, deployment: JsonObject, options?: VvpRequestOptions): Promise<Deployment> {
    this.maybeFault('POST', 'createDeployment');
    return this.nulls('deployment', await this.inner.createDeployment(namespace, deployment, options)) as Deployment;
  }

  async patchDeployment(namespace: string, nameOrId: string, body: JsonObject, options?: VvpRequestOptions): Promise<Deployment> {
    this.maybeFault('PATCH', 'patchDeployment');
    return this.nulls('deployment', await this.inner.patchDeployment(namespace, nameOrId, body, options)) as Deployment;
  }

  async replaceDeployment(namespace: string, nameOrId: string, body: JsonObject, options?: VvpRequestOptions): Promise<Deployment> {
    this.maybeFault('PUT', 'replaceDeployment');
    return this.nulls('deployment', await this.inner.replaceDeployment(namespace, nameOrId, body, options)) as Deployment;
  }

  async deleteDeployment(namespace: string, nameOrId: string, options?: VvpRequestOptions): Promise<boolean> {
    this.maybeFault('DELETE', 'deleteDeployment');
    return this.inner.deleteDeployment(namespace, nameOrId, options);
  }

  async getJob(namespace: string, jobId: string, options?: VvpRequestOptions): Promise<Job | undefined> {
    this.maybeFault('GET', 'getJob');
    return this.nulls('job', await this.inner.getJob(namespace, jobId, options));
  }

  async listJobs(namespace: string, deploymentId: string, options?: VvpRequestOptions): Promise<Job[]> {
    this.maybeFault('GET', 'listJobs');
    return (await this.inner.listJobs(namespace, deploymentId, options)).map((j) => this.nulls('job', j) as Job);
  }

  async listEvents(namespace: string, deploymentId: string, options?: VvpRequestOptions): Promise<VvpEvent[]> {
    this.maybeFault('GET', 'listEvents');
    return (await this.inner.listEvents(namespace, deploymentId, options)).map((e) => this.nulls('event', e) as VvpEvent);
  }

  async listSavepoints(namespace: string, filter: { deploymentId: string; jobId?: string }, options?: VvpRequestOptions): Promise<Savepoint[]> {
    this.maybeFault('GET', 'listSavepoints');
    return (await this.inner.listSavepoints(namespace, filter, options)).map((s) => this.nulls('savepoint', s) as Savepoint);
  }

  async getSavepoint(namespace: string, savepointId: string, options?: VvpRequestOptions): Promise<Savepoint | undefined> {
    this.maybeFault('GET', 'getSavepoint');
    return this.nulls('savepoint', await this.inner.getSavepoint(namespace, savepointId, options));
  }

  async createSavepoint(namespace: string, body: JsonObject, options?: VvpRequestOptions): Promise<Savepoint> {
    this.maybeFault('POST', 'createSavepoint');
    return this.nulls('savepoint', await this.inner.createSavepoint(namespace, body, options)) as Savepoint;
  }

  /** Draws whether the next call gets a fault and installs it as a one-shot rule of the in-memory VVP. */
  private maybeFault(method: string, call: string, isDeploymentRead = false): void {
    if (this.plan.rate === 0 || !this.rng.chance(this.plan.rate)) return;
    const weights = { ...this.plan.weights };
    if (!isDeploymentRead) weights.ingress404 = 0;
    const kind: FaultKind = this.rng.weighted(weights);
    let rule: Record<string, unknown>;
    switch (kind) {
      case 'hang':
        rule = { action: 'hang' };
        break;
      case 'status':
        rule = { action: 'status', status: this.rng.pick([429, 500, 502, 503, 504]) };
        break;
      case 'reset':
        rule = { action: 'dropRequest' };
        break;
      case 'lost':
        rule = { action: 'lostResponse' };
        break;
      case 'late':
        rule = { action: 'delay', delayMs: this.rng.pick([200, 1000, 5000, 20_000, 45_000]) };
        break;
      case 'ingress404':
        rule = { action: 'status', status: 404, body: INGRESS_404 };
        break;
    }
    this.install(method, call, kind === 'status' || kind === 'late' ? `${kind} ${JSON.stringify(rule.status ?? rule.delayMs)}` : kind, rule);
  }

  private install(method: string, call: string, fault: string, rule: Record<string, unknown>): void {
    this.inner.addFault({ method, times: 1, ...rule });
    this.injected.push({ atMs: this.inner.clock.now(), call, fault });
  }

  /**
   * Adds `null` for each enabled optional path that is absent in the answer (Jackson's habit),
   * as VVP puts them on the wire, then reads the answer as VvpClient does (`withoutNulls`): the
   * flows see what the client gives them.
   */
  private nulls<T>(kind: Kind, value: T): T {
    return withoutNulls(this.withJacksonNulls(kind, value));
  }

  private withJacksonNulls<T>(kind: Kind, value: T): T {
    const paths = this.nullPaths.get(kind);
    if (!paths || value === undefined || value === null) return value;
    for (const path of paths) {
      let node = value as unknown as Record<string, unknown>;
      let i = 0;
      for (; i < path.length - 1; i++) {
        const next = node[path[i]];
        if (typeof next !== 'object' || next === null || Array.isArray(next)) break;
        node = next as Record<string, unknown>;
      }
      if (i === path.length - 1 && !(path[i] in node)) node[path[i]] = null;
    }
    return value;
  }
}
