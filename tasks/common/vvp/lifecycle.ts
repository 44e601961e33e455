/**
 * Lifecycle actions (suspend, resume, cancel, savepoint, delete) as pure decisions: what to
 * write, or why nothing, and when VVP has reached the state the action leads to. VVP keeps
 * reporting the old state for a while after `spec.state` changes, so a read right after the
 * write is never a verdict. Table-tested.
 */
import type { Verdict } from '../poll/poller';
import { oneLine } from './errors';
import { desiredStateOf, runningJobIdOf, type Deployment, type JsonObject } from './resources';

export type LifecycleAction = 'suspend' | 'resume' | 'cancel' | 'savepoint' | 'delete';

/** What an action does with the deployment as read. */
type LifecycleDecision =
  /** Already where the action leads: success without a write. */
  | { kind: 'noop'; reason: string }
  /** PATCH `spec.state` (suspend, resume, cancel, and the cancel before a delete). */
  | { kind: 'setState'; state: 'SUSPENDED' | 'RUNNING' | 'CANCELLED'; body: JsonObject }
  /** `POST /savepoints` of the running job. */
  | { kind: 'savepoint'; jobId: string }
  /** `DELETE` (the deployment is CANCELLED or SUSPENDED). */
  | { kind: 'delete' }
  /** The action cannot lead anywhere from here: fail before writing. */
  | { kind: 'refuse'; reason: string };

/** The states VVP deletes a deployment in (desired state). */
const DELETABLE = new Set(['CANCELLED', 'SUSPENDED']);

/**
 * Decides an action on `deployment` (undefined: it does not exist). `restoreStrategy` goes with
 * a resume's PATCH when set.
 */
export function decideLifecycle(action: LifecycleAction, deployment: Deployment | undefined, restoreStrategy?: string): LifecycleDecision {
  if (!deployment) {
    return action === 'delete' ? { kind: 'noop', reason: 'the deployment does not exist: nothing to delete' } : { kind: 'refuse', reason: 'the deployment does not exist' };
  }
  const desired = desiredStateOf(deployment.spec) ?? 'RUNNING';
  const observed = deployment.status?.state ?? 'unknown';
  const setState = (state: 'SUSPENDED' | 'RUNNING' | 'CANCELLED'): LifecycleDecision => {
    const spec: JsonObject = { state };
    if (state === 'RUNNING' && restoreStrategy) spec.restoreStrategy = { kind: restoreStrategy };
    return { kind: 'setState', state, body: { spec } };
  };
  switch (action) {
    case 'suspend':
      if (desired === 'SUSPENDED' && observed === 'SUSPENDED') return { kind: 'noop', reason: 'already suspended' };
      return setState('SUSPENDED');
    case 'cancel':
      if (desired === 'CANCELLED' && observed === 'CANCELLED') return { kind: 'noop', reason: 'already cancelled' };
      return setState('CANCELLED');
    case 'resume':
      if (desired === 'RUNNING' && observed === 'RUNNING') return { kind: 'noop', reason: `already running (job ${oneLine(runningJobIdOf(deployment) ?? 'unknown')})` };
      if (desired === 'RUNNING') {
        return {
          kind: 'refuse',
          reason:
            observed === 'FAILED'
              ? 'the deployment is FAILED with desired state RUNNING; setting RUNNING again changes nothing. Cancel it first (action: cancel), then resume'
              : `the deployment's desired state is already RUNNING (it is ${oneLine(observed)}); a resume would change nothing`,
        };
      }
      return setState('RUNNING');
    case 'savepoint': {
      const jobId = runningJobIdOf(deployment);
      if (!jobId) return { kind: 'refuse', reason: `the deployment is ${oneLine(observed)}, not RUNNING: there is no job to take a savepoint of` };
      return { kind: 'savepoint', jobId };
    }
    case 'delete':
      return DELETABLE.has(desired) ? { kind: 'delete' } : setState('CANCELLED');
    default: {
      const unknown: never = action;
      return { kind: 'refuse', reason: `unknown action ${String(unknown)}` };
    }
  }
}

/** One probe while waiting for a desired state to be reached. */
export interface StateObservation {
  state?: string;
  desiredState?: string;
  /** VVP showed a state other than the one before the write (so a bad state now is real). */
  changeObserved: boolean;
}

/** What a state wait expects. */
interface StateExpectation {
  /** SUSPENDED or CANCELLED. */
  wanted: string;
  /** `status.state` before the write. */
  baselineState?: string;
}

/**
 * `succeeded` when VVP reports the wanted state; `failed` on FAILED (unless it is the stale
 * state from before the write) or when the desired state was changed by someone else;
 * `pending` otherwise.
 */
export function classifyStateChange(obs: StateObservation, exp: StateExpectation): Verdict<{ state: string }> {
  const state = obs.state ?? 'no status';
  if (obs.desiredState !== undefined && obs.desiredState !== exp.wanted) {
    return { status: 'failed', state: `${oneLine(state)}, desired state ${oneLine(obs.desiredState)}`, reason: `the deployment's desired state was changed to ${oneLine(obs.desiredState)} during the wait` };
  }
  if (obs.state === exp.wanted) return { status: 'succeeded', state, result: { state } };
  if (obs.state === 'FAILED' && (obs.changeObserved || exp.baselineState !== 'FAILED')) {
    return { status: 'failed', state: 'FAILED', reason: `the deployment is FAILED instead of ${exp.wanted}` };
  }
  const stale = !obs.changeObserved && obs.state === exp.baselineState;
  return { status: 'pending', state: stale ? `${oneLine(state)} (as before the change)` : oneLine(state), phase: `waiting for VVP to reach ${exp.wanted}`, shortPause: obs.state === 'TRANSITIONING' };
}
