/**
 * The lifecycle actions of VvpDeploy@1.1 (suspend, resume, cancel, savepoint, delete) as one
 * short orchestrator: read → decide → write once → wait for the state VVP must reach. Each
 * writes once, waits with the one poller within `timeoutMinutes`, and does nothing when the
 * deployment already is where the action leads.
 */
import { isAbortError } from '../../common/errors/errors';
import { inGroup } from '../../common/logging/logger';
import { changeTime, explainingEvents } from '../../common/vvp/diagnosis';
import { ActionFailedError, capitalise, ChangeBlockedError, formatDuration, oneLine, renderEvents, VvpApiError } from '../../common/vvp/errors';
import { classifyStateChange, decideLifecycle, type LifecycleAction, type StateObservation } from '../../common/vvp/lifecycle';
import { desiredStateOf, jarUriOf, runningJobIdOf, type Deployment, type Savepoint } from '../../common/vvp/resources';
import { sendOnce } from '../../common/vvp/send-once';
import { changesSinceWrite, unfinishedRollbackOf, type UnfinishedRollback } from '../../common/vvp/rollback-body';
import { finishOnceRunning, finishUnfinishedRollback } from './phases/unfinished-rollback';
import type { DeployDeps } from './deploy';
import type { DeployOutcome, DeployResult } from './deploy-result';
import type { DeployConfig } from './inputs';
import { awaitJob } from './phases/await-job';
import { pollVvp } from './phases/poll-vvp';
import { explainCancellation } from './phases/cancellation';
import { requestOptions, WriteStage, type FlowContext } from './phases/context';
import { DIAGNOSTICS_BOUND_MS, explainWait, readEvents, readJobs } from './phases/explain';
import { watchHealth } from './phases/health';
import { findTransitionSavepoint } from './phases/savepoint';

type Facts = Omit<DeployResult, 'outcome' | 'message' | 'error' | 'finishedAtMs'>;

/** Runs one lifecycle action; like runDeploy, never throws for an expected failure. */
export async function runLifecycle(config: DeployConfig & { action: LifecycleAction }, deps: DeployDeps): Promise<DeployResult> {
  const context: FlowContext = { ...deps, config };
  const { vvp, logger, clock } = deps;
  const action = config.action;
  const stage = new WriteStage();
  const facts: Facts = { namespace: config.namespace, deployment: config.deployment, targetJarUri: '', created: false, rolledBack: false, startedAtMs: clock.now() };
  let phase = `${capitalise(action)} deployment`;
  const finish = (outcome: DeployOutcome, message: string, error?: Error): DeployResult => ({
    ...facts,
    action,
    state: facts.state ?? stage.lastState,
    outcome,
    message,
    error,
    finishedAtMs: clock.now(),
  });
  const name = (): string => oneLine(facts.deploymentName ?? config.deployment);
  // An earlier rollback's record that stays open until a job of the deployment runs (a resume finishes it).
  let pending: UnfinishedRollback | undefined;
  try {
    return await inGroup(logger, phase, async () => {
      let current = await vvp.getDeployment(config.namespace, config.deployment, requestOptions(context));
      // What an earlier rollback left is finished before anything changes (a delete removes it with the deployment).
      if (current && action !== 'delete' && unfinishedRollbackOf(current)) {
        const finished = await finishUnfinishedRollback(context, stage, current, { restoreStrategy: config.restoreStrategy !== undefined });
        current = finished.deployment;
        pending = finished.pending;
      }
      if (current) adopt(facts, current);
      // "Nothing to delete" needs VVP's own word: a 404 may come from a wrong path or an ingress.
      if (!current && action === 'delete') await proveAbsent(config.deployment);
      logger.info(
        current
          ? `Deployment '${name()}' (id ${oneLine(current.metadata.id)}): state ${oneLine(current.status?.state ?? 'unknown')}, desired ${oneLine(desiredStateOf(current.spec) ?? 'unset')}.`
          : `Deployment '${config.deployment}' does not exist in namespace '${config.namespace}'.`,
      );
      const decision = decideLifecycle(action, current, config.restoreStrategy);
      switch (decision.kind) {
        case 'noop':
          logger.info(capitalise(decision.reason));
          facts.jobId = current ? runningJobIdOf(current) : undefined;
          return finish('upToDate', `VVP deployment '${name()}': ${decision.reason}`);
        case 'refuse':
          throw new ChangeBlockedError(name(), config.namespace, decision.reason);
        case 'setState':
        case 'savepoint':
        case 'delete':
          break;
        default: {
          const unknown: never = decision;
          throw new Error(`unknown decision ${JSON.stringify(unknown)}`);
        }
      }
      const deployment = current as Deployment;
      const id = deployment.metadata.id;
      if (decision.kind === 'savepoint') return await takeSavepoint(id, decision.jobId);
      let written: Deployment | undefined;
      if (decision.kind === 'setState') {
        const { sinceMs, knownJobIds, after } = await setState(deployment, decision.state, decision.body);
        written = after;
        if (decision.state === 'RUNNING') return await resumed(deployment, knownJobIds, sinceMs);
        await reachState(deployment, decision.state, sinceMs);
        if (action !== 'delete') return finish('succeeded', `VVP deployment '${name()}' is ${decision.state}${facts.savepoint ? ` (savepoint ${facts.savepoint.id} at ${facts.savepoint.location ?? '?'})` : ''}`);
      }
      return await deleteIt(id, written ?? deployment);
    });
  } catch (error) {
    const final = explainCancellation(error, deps.abortSignal, stage, phase, { deployment: name(), change: `the ${action}`, lastState: facts.state }) ?? (error as Error);
    return finish(final.name === 'CancelledError' ? 'cancelled' : final instanceof ChangeBlockedError ? 'blocked' : final instanceof ActionFailedError ? 'failed' : 'error', final.message, final);
  }

  /** PATCHes `spec.state` once; returns VVP's time of the write and the jobs that existed before it. */
  async function setState(deployment: Deployment, state: string, body: Deployment['spec']): Promise<{ sinceMs: number; knownJobIds?: Set<string>; after?: Deployment }> {
    const id = deployment.metadata.id;
    const before = state === 'RUNNING' ? await readJobs(context, id) : undefined;
    const sentAtMs = clock.now();
    const result = await sendOnce(
      {
        method: 'PATCH',
        operation: `setting spec.state ${state} on deployment '${name()}' in namespace '${config.namespace}'`,
        send: () => vvp.patchDeployment(config.namespace, id, body, requestOptions(context)),
        readBack: () => vvp.getDeployment(config.namespace, id, requestOptions(context)),
        applied: (readBack) => desiredStateOf(readBack?.spec) === state,
        describe: (readBack) => `spec.state is still ${oneLine(desiredStateOf(readBack?.spec) ?? '(unset)')}`,
      },
      { clock, logger, abortSignal: deps.abortSignal, onSending: () => stage.sending('PATCH') },
    );
    stage.stage = 'applied';
    logger.info(`spec.state is now ${state}.`);
    const after = result.value as Deployment | undefined;
    return { sinceMs: changeTime(after?.metadata.modifiedAt, sentAtMs), knownJobIds: before ? new Set(before.map((j) => j.metadata.id)) : undefined, after };
  }

  /** Waits until the deployment reports `wanted`; a SUSPEND savepoint is reported. */
  async function reachState(deployment: Deployment, wanted: 'SUSPENDED' | 'CANCELLED', sinceMs: number): Promise<void> {
    const id = deployment.metadata.id;
    const baselineState = deployment.status?.state;
    const previousJobId = runningJobIdOf(deployment);
    let changeObserved = false;
    const outcome = await pollVvp<StateObservation, { state: string }>(context, {
      probe: async (signal) => {
        const d = await vvp.getDeployment(config.namespace, id, { abortSignal: signal, deadline: clock.now() + config.timeoutInMs + DIAGNOSTICS_BOUND_MS });
        if (!d) throw new VvpApiError({ method: 'GET', path: '', operation: `waiting for deployment '${name()}'`, status: 404, serviceMessage: 'the deployment disappeared during the wait' });
        stage.lastState = d.status?.state;
        if (d.status?.state !== baselineState) changeObserved = true;
        return { state: d.status?.state, desiredState: desiredStateOf(d.spec), changeObserved };
      },
      classify: (obs) => classifyStateChange(obs, { wanted, baselineState }),
      timeoutInMs: config.timeoutInMs,
    });
    facts.state = stage.lastState;
    // No job runs in SUSPENDED or CANCELLED: the output names none.
    if (outcome.kind === 'succeeded') facts.jobId = undefined;
    if (wanted === 'SUSPENDED' && previousJobId) {
      const savepoint = await findTransitionSavepoint(context, id, previousJobId, sinceMs);
      if (savepoint) facts.savepoint = { id: savepoint.metadata.id, location: savepoint.spec?.savepointLocation, state: savepoint.status?.state };
    }
    if (outcome.kind === 'succeeded') return;
    const { events, routine } = explainingEvents(await readEvents(context, id, sinceMs, clock.now() + DIAGNOSTICS_BOUND_MS));
    const savepointFailure = facts.savepoint?.state === 'FAILED' ? await savepointFailureText(facts.savepoint.id) : '';
    const why = outcome.kind === 'failed' ? outcome.reason : `timed out after ${formatDuration(config.timeoutInMs)} ${outcome.phase}; last observed: ${oneLine(outcome.state)}`;
    throw new ActionFailedError(`VVP deployment '${name()}' in namespace '${config.namespace}' did not reach ${wanted}: ${why}.${savepointFailure}\n${renderEvents(events, routine)}`);
  }

  /** After `spec.state: RUNNING`: a new job must run, as for a deploy; then the health check. */
  async function resumed(deployment: Deployment, knownJobIds: Set<string> | undefined, sinceMs: number): Promise<DeployResult> {
    const jarUri = jarUriOf(deployment) ?? '';
    facts.targetJarUri = jarUri;
    const target = {
      deploymentId: deployment.metadata.id,
      deploymentName: name(),
      expectation: { jarUri, baselineState: deployment.status?.state, requireNewJob: false },
      knownJobIds,
      timeoutInMs: config.timeoutInMs,
    };
    phase = 'Wait for the new job';
    // The wait, what explains its failure and the state the new job restored: all in the wait's group.
    const { waited, failure } = await inGroup(logger, phase, async () => {
      const result = await awaitJob(context, stage, target);
      if (result.outcome.kind !== 'succeeded') return { waited: result, failure: await explainWait(context, target, result, sinceMs) };
      const restored = result.outcome.last.runningJob?.restoredFrom;
      const jobId = oneLine(result.outcome.result.jobId);
      logger.info(restored ? `The new job ${jobId} restored its state from ${oneLine(restored)}.` : `The new job ${jobId} started without restored state.`);
      return { waited: result, failure: undefined };
    });
    if (waited.lastDeployment) adopt(facts, waited.lastDeployment);
    if (waited.outcome.kind !== 'succeeded') {
      const error = failure ?? new Error('the wait for the new job ended without a verdict');
      return finish('failed', error.message, error);
    }
    const jobId = waited.outcome.result.jobId;
    if (pending) {
      await finishOnceRunning(context, stage, deployment.metadata.id, pending, { restoreStrategy: config.restoreStrategy !== undefined });
      pending = undefined;
    }
    facts.jobId = jobId;
    facts.state = 'RUNNING';
    facts.restoredFrom = waited.outcome.last.runningJob?.restoredFrom;
    if (config.healthCheckInMs > 0) {
      phase = 'Health check';
      const health = await inGroup(logger, phase, () => watchHealth(context, stage, { deploymentId: deployment.metadata.id, deploymentName: name(), jobId, sinceMs }));
      if (health.kind === 'failed') return finish('failed', health.error.message, health.error);
      facts.healthRestarts = health.restarts;
    }
    return finish('succeeded', `VVP deployment '${name()}' is RUNNING again: job ${jobId}${facts.restoredFrom ? `, restored from ${oneLine(facts.restoredFrom)}` : ', without restored state'}`);
  }

  /** `POST /savepoints` once, then waits until the savepoint is COMPLETED (FAILED: its failure). */
  async function takeSavepoint(deploymentId: string, jobId: string): Promise<DeployResult> {
    const sentAtMs = clock.now();
    const ofThisRequest = (s: Savepoint): boolean => s.metadata.jobId === jobId && (Date.parse(s.metadata.createdAt ?? '') || sentAtMs) >= changeTime(undefined, sentAtMs) && s.metadata.origin !== 'COPIED';
    const result = await sendOnce(
      {
        method: 'POST',
        operation: `taking a savepoint of job ${oneLine(jobId)} of deployment '${name()}'`,
        send: () => vvp.createSavepoint(config.namespace, { metadata: { deploymentId } }, requestOptions(context)),
        readBack: async () => (await vvp.listSavepoints(config.namespace, { deploymentId, jobId }, requestOptions(context))).find(ofThisRequest),
        applied: (readBack) => readBack !== undefined,
        describe: () => 'no new savepoint of the job',
      },
      { clock, logger, abortSignal: deps.abortSignal, onSending: () => stage.sending('POST') },
    );
    stage.stage = 'applied';
    const created = result.value as Savepoint;
    const savepointId = created.metadata.id;
    facts.jobId = jobId;
    logger.info(`Savepoint ${oneLine(savepointId)} of job ${oneLine(jobId)} requested; waiting for it to complete.`);
    const outcome = await pollVvp<Savepoint | undefined, Savepoint>(context, {
      probe: (signal) => vvp.getSavepoint(config.namespace, savepointId, { abortSignal: signal, deadline: clock.now() + config.timeoutInMs + DIAGNOSTICS_BOUND_MS }),
      classify: (s) => {
        const state = s?.status?.state ?? 'not visible yet';
        if (state === 'COMPLETED' && s) return { status: 'succeeded', state, result: s };
        if (state === 'FAILED') return { status: 'failed', state, reason: `the savepoint FAILED${failureText(s)}` };
        return { status: 'pending', state: `savepoint ${oneLine(state)}`, phase: 'waiting for the savepoint to complete', soon: true };
      },
      timeoutInMs: config.timeoutInMs,
    });
    const last = outcome.last;
    facts.savepoint = { id: savepointId, location: last?.spec?.savepointLocation, state: last?.status?.state };
    if (outcome.kind === 'succeeded') return finish('succeeded', `Savepoint ${savepointId} of job ${jobId} is COMPLETED at ${oneLine(outcome.result.spec?.savepointLocation ?? '(no location)')}; the job keeps running`);
    const { events, routine } = explainingEvents(await readEvents(context, deploymentId, changeTime(created.metadata.createdAt, sentAtMs), clock.now() + DIAGNOSTICS_BOUND_MS));
    const why = outcome.kind === 'failed' ? outcome.reason : `timed out after ${formatDuration(config.timeoutInMs)}; last observed: ${oneLine(outcome.state)}`;
    const error = new ActionFailedError(`Savepoint ${savepointId} of job ${jobId} (deployment '${name()}'): ${why}.\n${renderEvents(events, routine)}`);
    return finish('failed', error.message, error);
  }

  /** `DELETE` once, then waits until VVP no longer has the deployment. */
  async function deleteIt(deploymentId: string, seen: Deployment): Promise<DeployResult> {
    phase = 'Delete deployment';
    // Whoever changed the deployment since this step saw it (during the cancel) did so on purpose: not deleted under them.
    const now = await vvp.getDeployment(config.namespace, deploymentId, requestOptions(context, clock.now() + DIAGNOSTICS_BOUND_MS));
    const changed = now ? changesSinceWrite(seen, now) : [];
    if (changed.length > 0) {
      throw new ActionFailedError(`VVP deployment '${name()}' was changed by someone else while this step cancelled it (${changed.slice(0, 8).join(', ')}); it was not deleted.`);
    }
    await sendOnce(
      {
        method: 'DELETE',
        operation: `deleting deployment '${name()}' in namespace '${config.namespace}'`,
        send: () => vvp.deleteDeployment(config.namespace, deploymentId, requestOptions(context)),
        readBack: async () => (await vvp.getDeployment(config.namespace, deploymentId, requestOptions(context))) === undefined,
        applied: (gone) => gone === true,
        describe: () => 'the deployment still exists',
      },
      { clock, logger, abortSignal: deps.abortSignal, onSending: () => stage.sending('DELETE') },
    );
    stage.stage = 'applied';
    const outcome = await pollVvp<Deployment | undefined, true>(context, {
      probe: (signal) => vvp.getDeployment(config.namespace, deploymentId, { abortSignal: signal, deadline: clock.now() + config.timeoutInMs + DIAGNOSTICS_BOUND_MS }),
      classify: (d) => (d === undefined ? { status: 'succeeded', state: 'deleted', result: true } : { status: 'pending', state: `still there (${oneLine(d.status?.state ?? 'unknown')})`, phase: 'waiting for VVP to delete the deployment', soon: true }),
      timeoutInMs: config.timeoutInMs,
    });
    if (outcome.kind !== 'succeeded') {
      const error = new ActionFailedError(`VVP deployment '${name()}' in namespace '${config.namespace}' was not deleted within ${formatDuration(config.timeoutInMs)}: last observed ${oneLine(outcome.state)}.`);
      return finish('failed', error.message, error);
    }
    await proveAbsent(deploymentId);
    facts.state = 'DELETED';
    facts.jobId = undefined;
    return finish('succeeded', `VVP deployment '${name()}' is deleted from namespace '${config.namespace}'`);
  }

  /**
   * Confirms that VVP does not have the deployment: its namespace's deployment list answers and
   * does not contain it. Throws when the list cannot be read or still holds it.
   */
  async function proveAbsent(nameOrId: string): Promise<void> {
    let listed: Deployment[];
    try {
      listed = await vvp.listDeployments(config.namespace, requestOptions(context, clock.now() + DIAGNOSTICS_BOUND_MS));
    } catch (error) {
      if (isAbortError(error) || !(error instanceof VvpApiError)) throw error;
      throw new VvpApiError({
        method: error.method,
        path: error.path,
        operation: `confirming that deployment '${nameOrId}' does not exist in namespace '${config.namespace}'`,
        status: error.status,
        networkCode: error.networkCode,
        serviceMessage: `reading the deployment answered 404, and the namespace's deployment list could not be read either (${error.serviceMessage ?? error.message})`,
        hint: 'Check vvpUrl (it must point at Ververica Platform, not a page that answers 404 to everything) and the namespace; nothing was deleted',
        cause: error,
      });
    }
    const still = listed.find((d) => d.metadata.id === nameOrId || d.metadata.name === nameOrId);
    if (still) {
      throw new ActionFailedError(
        `VVP answered 404 for deployment '${oneLine(nameOrId)}', but its namespace '${config.namespace}' still lists it (id ${oneLine(still.metadata.id)}, state ${oneLine(still.status?.state ?? 'unknown')}); nothing is reported deleted.`,
      );
    }
  }

  async function savepointFailureText(savepointId: string): Promise<string> {
    const s = await vvp.getSavepoint(config.namespace, savepointId, requestOptions(context, clock.now() + DIAGNOSTICS_BOUND_MS)).catch(() => undefined);
    return ` Savepoint ${oneLine(savepointId)} FAILED${failureText(s)}.`;
  }
}

function failureText(s: Savepoint | undefined): string {
  const f = s?.status?.failure;
  return f ? `: ${oneLine(`${f.reason ?? ''} ${f.message ?? ''}`)}` : '';
}

function adopt(facts: Facts, deployment: Deployment): void {
  facts.deploymentId = deployment.metadata.id;
  facts.deploymentName = deployment.metadata.name ?? facts.deploymentName;
  facts.state = deployment.status?.state;
  facts.jarUri = jarUriOf(deployment);
  facts.previousJarUri ??= facts.jarUri;
  facts.jobId = runningJobIdOf(deployment);
}


