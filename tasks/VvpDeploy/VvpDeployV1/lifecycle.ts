/**
 * The lifecycle actions of VvpDeploy@1 (suspend, resume, cancel, savepoint, delete) as short step
 * lists over the phases: read → decide → write once → wait for the state VVP must reach (a resume
 * ends like a deploy: the new job, its health check). Each does nothing when the deployment
 * already is where the action leads.
 */
import { isAbortError } from '../../common/errors/errors';
import { artifactOfSpec, expectedArtifact } from '../../common/vvp/artifact';
import { changeTime, explainingEvents } from '../../common/vvp/diagnosis';
import { capitalise, DeploymentFailedError, formatDuration, oneLine, renderEvents, VvpApiError } from '../../common/vvp/errors';
import { decideLifecycle, type LifecycleAction } from '../../common/vvp/lifecycle';
import { desiredStateOf, jarUriOf, runningJobIdOf, type Deployment, type Savepoint } from '../../common/vvp/resources';
import { changesSinceWrite, unfinishedRollbackOf, type UnfinishedRollback } from '../../common/vvp/rollback-body';
import { sendOnce } from '../../common/vvp/send-once';
import { endedBy, type Ending, type Run, type Steps } from './flow';
import type { DeployResult } from './deploy-result';
import type { DeployConfig } from './inputs';
import { awaitState } from './phases/await-state';
import { requestOptions } from './phases/context';
import { DIAGNOSTICS_BOUND_MS, readEvents, readJobs } from './phases/explain';
import { healthyFor, newJobFields, runNewJob } from './phases/new-job';
import { pollVvp } from './phases/poll-vvp';
import { findTransitionSavepoint } from './phases/savepoint';
import { finishUnfinishedRollback } from './phases/unfinished-rollback';

/** A resume's write is done: the new job is awaited outside the action's group, as for a deploy. */
interface Resumed {
  resumed: Deployment;
  knownJobIds?: Set<string>;
  sinceMs: number;
  pending?: UnfinishedRollback;
}

/** The steps of one lifecycle action. */
export function lifecycleSteps(config: DeployConfig, action: LifecycleAction): Steps {
  const group = `${capitalise(action)} deployment`;
  return {
    firstGroup: group,
    change: `the ${action}`,
    run: async (run) => {
      run.record({ targetJarUri: '' });
      const done = await run.group(group, () => act(run, action));
      return 'resumed' in done ? awaitResumedJob(run, done) : done;
    },
  };
}

/** Reads, decides and writes; a resume returns what its new job is awaited with. */
async function act(run: Run, action: LifecycleAction): Promise<Ending | Resumed> {
  const { context } = run;
  const { config, vvp, logger } = context;
  let current = await vvp.getDeployment(config.namespace, config.deployment, requestOptions(context));
  // An earlier rollback's record stays open until a job of the deployment runs (a resume finishes it).
  let pending: UnfinishedRollback | undefined;
  // What an earlier rollback left is finished before anything changes (a delete removes it with the deployment).
  if (current && action !== 'delete' && unfinishedRollbackOf(current)) {
    const finished = await finishUnfinishedRollback(context, current, { restoreStrategy: config.restoreStrategy !== undefined });
    current = finished.deployment;
    pending = finished.pending;
  }
  if (current) {
    run.seen(current);
    run.record({ previousJarUri: jarUriOf(current), jobId: runningJobIdOf(current) });
  }
  // "Nothing to delete" needs VVP's own word: a 404 may come from a wrong path or an ingress.
  if (!current && action === 'delete') await proveAbsent(run, config.deployment);
  logger.info(
    current
      ? `Deployment '${run.name()}' (id ${oneLine(current.metadata.id)}): state ${oneLine(current.status?.state ?? 'unknown')}, desired ${oneLine(desiredStateOf(current.spec) ?? 'unset')}.`
      : `Deployment '${config.deployment}' does not exist in namespace '${config.namespace}'.`,
  );
  const decision = decideLifecycle(action, current, config.restoreStrategy);
  if (decision.kind === 'noop') {
    logger.info(capitalise(decision.reason));
    return { outcome: 'upToDate', message: `VVP deployment '${run.name()}': ${decision.reason}` };
  }
  if (decision.kind === 'refuse') return endedBy(new DeploymentFailedError({ kind: 'blocked', deployment: run.name(), namespace: config.namespace, reason: decision.reason, events: [] }));
  const deployment = current as Deployment;
  if (decision.kind === 'savepoint') return takeSavepoint(run, deployment.metadata.id, decision.jobId);
  if (decision.kind === 'delete') return deleteIt(run, deployment);
  const written = await setState(run, deployment, decision.state, decision.body);
  if (decision.state === 'RUNNING') return { resumed: deployment, knownJobIds: written.knownJobIds, sinceMs: written.sinceMs, pending };
  const savepoint = await reachState(run, deployment, decision.state, written.sinceMs);
  if (action === 'delete') return deleteIt(run, written.after ?? deployment);
  return { outcome: 'succeeded', message: `VVP deployment '${run.name()}' is ${decision.state}${savepoint ? ` (savepoint ${savepoint.id} at ${savepoint.location ?? '?'})` : ''}` };
}

/** PATCHes `spec.state` once; returns VVP's time of the write and the jobs that existed before it. */
async function setState(run: Run, deployment: Deployment, state: string, body: Deployment['spec']): Promise<{ sinceMs: number; knownJobIds?: Set<string>; after?: Deployment }> {
  const { context } = run;
  const { config, vvp, clock, logger } = context;
  const id = deployment.metadata.id;
  const before = state === 'RUNNING' ? await readJobs(context, id) : undefined;
  const sentAtMs = clock.now();
  const result = await sendOnce(
    {
      method: 'PATCH',
      operation: `setting spec.state ${state} on deployment '${run.name()}' in namespace '${config.namespace}'`,
      send: () => vvp.patchDeployment(config.namespace, id, body, requestOptions(context)),
      readBack: () => vvp.getDeployment(config.namespace, id, requestOptions(context)),
      applied: (readBack) => desiredStateOf(readBack?.spec) === state,
      describe: (readBack) => `spec.state is still ${oneLine(desiredStateOf(readBack?.spec) ?? '(unset)')}`,
    },
    { clock, logger, abortSignal: context.abortSignal, onSending: () => context.progress.sending('PATCH') },
  );
  context.progress.applied();
  logger.info(`spec.state is now ${state}.`);
  const after = result.value as Deployment | undefined;
  return { sinceMs: changeTime(after?.metadata.modifiedAt, sentAtMs), knownJobIds: before ? new Set(before.map((j) => j.metadata.id)) : undefined, after };
}

/** Waits until the deployment reports `wanted`; returns the SUSPEND savepoint, when VVP took one. Throws when it does not get there. */
async function reachState(run: Run, deployment: Deployment, wanted: 'SUSPENDED' | 'CANCELLED', sinceMs: number): Promise<DeployResult['savepoint']> {
  const { context } = run;
  const { config, clock } = context;
  const id = deployment.metadata.id;
  const previousJobId = runningJobIdOf(deployment);
  const outcome = await awaitState(context, id, wanted, deployment.status?.state);
  run.record({ state: context.progress.lastState });
  // No job runs in SUSPENDED or CANCELLED: the output names none.
  if (outcome.kind === 'succeeded') run.record({ jobId: undefined });
  const found = wanted === 'SUSPENDED' && previousJobId ? await findTransitionSavepoint(context, id, previousJobId, sinceMs) : undefined;
  const savepoint = found ? { id: found.metadata.id, location: found.spec?.savepointLocation, state: found.status?.state } : undefined;
  if (savepoint) run.record({ savepoint });
  if (outcome.kind === 'succeeded') return savepoint;
  const { events, routine } = explainingEvents(await readEvents(context, id, sinceMs, clock.now() + DIAGNOSTICS_BOUND_MS));
  const savepointFailure = savepoint?.state === 'FAILED' ? await savepointFailureText(run, savepoint.id) : '';
  const why = outcome.kind === 'failed' ? outcome.reason : `timed out after ${formatDuration(config.timeoutInMs)} ${outcome.phase}; last observed: ${oneLine(outcome.state)}`;
  throw actionFailed(run, `VVP deployment '${run.name()}' in namespace '${config.namespace}' did not reach ${wanted}: ${why}.${savepointFailure}\n${renderEvents(events, routine)}`);
}

/** After `spec.state: RUNNING`: a new job must run, as for a deploy; then the health check. */
async function awaitResumedJob(run: Run, resumed: Resumed): Promise<Ending> {
  const { config } = run.context;
  const { resumed: deployment } = resumed;
  const artifact = expectedArtifact(artifactOfSpec(deployment));
  run.record({ targetJarUri: artifact.jarUri });
  const job = await runNewJob(run, {
    deploymentId: deployment.metadata.id,
    deploymentName: run.name(),
    expectation: { ...artifact, baselineState: deployment.status?.state, requireNewJob: false },
    knownJobIds: resumed.knownJobIds,
    timeoutInMs: config.timeoutInMs,
    sinceMs: resumed.sinceMs,
    pending: resumed.pending,
    keep: { restoreStrategy: config.restoreStrategy !== undefined },
  });
  const fields = newJobFields(job, run.context.progress);
  if (job.kind === 'failed') return { ...fields, ...endedBy(job.error) };
  const restored = job.restoredFrom ? `, restored from ${oneLine(job.restoredFrom)}` : ', without restored state';
  return {
    ...fields,
    outcome: 'succeeded',
    message: `VVP deployment '${run.name()}' is RUNNING again: job ${job.jobId}${restored}${healthyFor(config.healthCheckInMs, job)}`,
  };
}

/** `POST /savepoints` once, then waits until the savepoint is COMPLETED (FAILED: its failure). */
async function takeSavepoint(run: Run, deploymentId: string, jobId: string): Promise<Ending> {
  const { context } = run;
  const { config, vvp, clock, logger } = context;
  const sentAtMs = clock.now();
  const ofThisRequest = (s: Savepoint): boolean => s.metadata.jobId === jobId && (Date.parse(s.metadata.createdAt ?? '') || sentAtMs) >= changeTime(undefined, sentAtMs) && s.metadata.origin !== 'COPIED';
  const result = await sendOnce(
    {
      method: 'POST',
      operation: `taking a savepoint of job ${oneLine(jobId)} of deployment '${run.name()}'`,
      send: () => vvp.createSavepoint(config.namespace, { metadata: { deploymentId } }, requestOptions(context)),
      readBack: async () => (await vvp.listSavepoints(config.namespace, { deploymentId, jobId }, requestOptions(context))).find(ofThisRequest),
      applied: (readBack) => readBack !== undefined,
      describe: () => 'no new savepoint of the job',
    },
    { clock, logger, abortSignal: context.abortSignal, onSending: () => context.progress.sending('POST') },
  );
  context.progress.applied();
  const created = result.value as Savepoint;
  const savepointId = created.metadata.id;
  run.record({ jobId });
  logger.info(`Savepoint ${oneLine(savepointId)} of job ${oneLine(jobId)} requested; waiting for it to complete.`);
  const outcome = await pollVvp<Savepoint | undefined, Savepoint>(context, {
    probe: (signal) => vvp.getSavepoint(config.namespace, savepointId, { abortSignal: signal, deadline: clock.now() + config.timeoutInMs + DIAGNOSTICS_BOUND_MS }),
    classify: (s) => {
      const state = s?.status?.state ?? 'not visible yet';
      if (state === 'COMPLETED' && s) return { status: 'succeeded', state, result: s };
      if (state === 'FAILED') return { status: 'failed', state, reason: `the savepoint FAILED${failureText(s)}` };
      return { status: 'pending', state: `savepoint ${oneLine(state)}`, phase: 'waiting for the savepoint to complete', shortPause: true };
    },
    timeoutInMs: config.timeoutInMs,
  });
  const last = outcome.last;
  const savepoint = { id: savepointId, location: last?.spec?.savepointLocation, state: last?.status?.state };
  if (outcome.kind === 'succeeded') {
    return { savepoint, outcome: 'succeeded', message: `Savepoint ${savepointId} of job ${jobId} is COMPLETED at ${oneLine(outcome.result.spec?.savepointLocation ?? '(no location)')}; the job keeps running` };
  }
  const { events, routine } = explainingEvents(await readEvents(context, deploymentId, changeTime(created.metadata.createdAt, sentAtMs), clock.now() + DIAGNOSTICS_BOUND_MS));
  const why = outcome.kind === 'failed' ? outcome.reason : `timed out after ${formatDuration(config.timeoutInMs)}; last observed: ${oneLine(outcome.state)}`;
  return { savepoint, ...endedBy(actionFailed(run, `Savepoint ${savepointId} of job ${jobId} (deployment '${run.name()}'): ${why}.\n${renderEvents(events, routine)}`)) };
}

/** `DELETE` once, then waits until VVP no longer has the deployment. `seen`: the deployment as this step last read or wrote it. */
async function deleteIt(run: Run, seen: Deployment): Promise<Ending> {
  const { context } = run;
  const { config, vvp, clock, logger } = context;
  const deploymentId = seen.metadata.id;
  // Whoever changed the deployment since this step saw it (during the cancel) did so on purpose: not deleted under them.
  const now = await vvp.getDeployment(config.namespace, deploymentId, requestOptions(context, clock.now() + DIAGNOSTICS_BOUND_MS));
  const changed = now ? changesSinceWrite(seen, now) : [];
  if (changed.length > 0) {
    throw actionFailed(run, `VVP deployment '${run.name()}' was changed by someone else while this step cancelled it (${changed.slice(0, 8).join(', ')}); it was not deleted.`);
  }
  await sendOnce(
    {
      method: 'DELETE',
      operation: `deleting deployment '${run.name()}' in namespace '${config.namespace}'`,
      send: () => vvp.deleteDeployment(config.namespace, deploymentId, requestOptions(context)),
      readBack: async () => (await vvp.getDeployment(config.namespace, deploymentId, requestOptions(context))) === undefined,
      applied: (gone) => gone === true,
      describe: () => 'the deployment still exists',
    },
    { clock, logger, abortSignal: context.abortSignal, onSending: () => context.progress.sending('DELETE') },
  );
  context.progress.applied();
  const outcome = await pollVvp<Deployment | undefined, true>(context, {
    probe: (signal) => vvp.getDeployment(config.namespace, deploymentId, { abortSignal: signal, deadline: clock.now() + config.timeoutInMs + DIAGNOSTICS_BOUND_MS }),
    classify: (d) => (d === undefined ? { status: 'succeeded', state: 'deleted', result: true } : { status: 'pending', state: `still there (${oneLine(d.status?.state ?? 'unknown')})`, phase: 'waiting for VVP to delete the deployment', shortPause: true }),
    timeoutInMs: config.timeoutInMs,
  });
  if (outcome.kind !== 'succeeded') {
    return endedBy(actionFailed(run, `VVP deployment '${run.name()}' in namespace '${config.namespace}' was not deleted within ${formatDuration(config.timeoutInMs)}: last observed ${oneLine(outcome.state)}.`));
  }
  await proveAbsent(run, deploymentId);
  return { state: 'DELETED', jobId: undefined, outcome: 'succeeded', message: `VVP deployment '${run.name()}' is deleted from namespace '${config.namespace}'` };
}

/**
 * Confirms that VVP does not have the deployment: its namespace's deployment list answers and
 * does not contain it. Throws when the list cannot be read or still holds it.
 */
async function proveAbsent(run: Run, nameOrId: string): Promise<void> {
  const { config, vvp, clock } = run.context;
  let listed: Deployment[];
  try {
    listed = await vvp.listDeployments(config.namespace, requestOptions(run.context, clock.now() + DIAGNOSTICS_BOUND_MS));
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
    throw actionFailed(
      run,
      `VVP answered 404 for deployment '${oneLine(nameOrId)}', but its namespace '${config.namespace}' still lists it (id ${oneLine(still.metadata.id)}, state ${oneLine(still.status?.state ?? 'unknown')}); nothing is reported deleted.`,
    );
  }
}

/** A lifecycle action that did not get where it leads; `sentence` is the whole message. */
function actionFailed(run: Run, sentence: string): DeploymentFailedError {
  return new DeploymentFailedError({ kind: 'action', deployment: run.name(), namespace: run.context.config.namespace, reason: sentence, events: [] });
}

async function savepointFailureText(run: Run, savepointId: string): Promise<string> {
  const { config, vvp, clock } = run.context;
  const s = await vvp.getSavepoint(config.namespace, savepointId, requestOptions(run.context, clock.now() + DIAGNOSTICS_BOUND_MS)).catch(() => undefined);
  return ` Savepoint ${oneLine(savepointId)} FAILED${failureText(s)}.`;
}

function failureText(s: Savepoint | undefined): string {
  const f = s?.status?.failure;
  return f ? `: ${oneLine(`${f.reason ?? ''} ${f.message ?? ''}`)}` : '';
}
