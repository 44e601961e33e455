/**
 * How the simulated controller treats one deployment: phase timings and the outcome of
 * its transitions. Global defaults apply to every deployment; per-deployment overrides
 * are keyed by `namespace/name`, so they can be set before the deployment exists.
 */
import { badRequest } from './api-error';
import { isPlainObject } from './plain-object';

/**
 * What happens to a transition that starts a job or takes a savepoint.
 * - `runs`: the new job starts (default).
 * - `fails`: job creation fails `maxJobCreationAttempts` times, job and deployment FAILED.
 * - `savepointFails`: the savepoint fails `maxSavepointCreationAttempts` times, deployment FAILED
 *   (also the outcome of a suspension or user-requested savepoint, see {@link BehaviourBook.savepointFails}).
 * - `stuck`: the new job stays STARTING, the deployment TRANSITIONING, forever.
 * - `finishes`: the job starts, then reaches FINISHED after `finishMs` (bounded job).
 * - `crashLoops`: the job starts and the deployment goes RUNNING; then Flink restarts the job every
 *   `restartIntervalMs`, for as long as it runs: `observedFlinkJobRestarts` grows, the condition
 *   `JobFailing` turns "True", and the deployment stays RUNNING (VVP does not leave RUNNING for
 *   Flink restarts).
 * - `restartsOnce`: the job starts, Flink restarts it once after `restartIntervalMs` (JobFailing
 *   "True") and it recovers `restartIntervalMs` later (JobFailing "False", 1 restart).
 */
export type Outcome = 'runs' | 'fails' | 'savepointFails' | 'stuck' | 'finishes' | 'crashLoops' | 'restartsOnce';
export const OUTCOMES: readonly Outcome[] = ['runs', 'fails', 'savepointFails', 'stuck', 'finishes', 'crashLoops', 'restartsOnce'];

/** Picks an outcome by the new template's `jarUri` (substring match). */
export interface OutcomeRule {
  jarUriContains: string;
  outcome: Outcome;
}

/** `status.failure` given to a job or savepoint that fails. */
export interface FailureText {
  reason: string;
  message: string;
}

/** Behaviour of one deployment. Every duration is multiplied by the simulator's `timeScale`. */
export interface Behaviour {
  /** How long the old status (old job, RUNNING) is still shown after a spec change. Default 2000. */
  staleRunningMs: number;
  /** Savepoint STARTED → COMPLETED (or FAILED, per attempt). Default 1000. */
  savepointMs: number;
  /** Job TERMINATING → TERMINATED. Default 500. */
  terminateMs: number;
  /** Job STARTING → STARTED (and the length of each failed creation attempt). Default 1500. */
  startMs: number;
  /** STARTED → FINISHED for the `finishes` outcome. Default 1000. */
  finishMs: number;
  /** Time between Flink restarts for `crashLoops`; restart and recovery delay for `restartsOnce`. Default 2000. */
  restartIntervalMs: number;
  /** Outcome when neither the queue nor a rule decides. Default `runs`. */
  outcome: Outcome;
  /** Outcomes for the next transitions, consumed one per transition that starts a job or takes a savepoint. */
  outcomeQueue: Outcome[];
  /** First rule whose `jarUriContains` occurs in the new jarUri decides (after the queue). */
  outcomeRules: OutcomeRule[];
  /** Failure of a job that does not start. */
  jobFailure: FailureText;
  /** Failure of a savepoint. */
  savepointFailure: FailureText;
  /** `reason`/`message` of the `JobFailing` condition while Flink restarts the job. */
  restartFailure: FailureText;
  /**
   * A job torn down without a savepoint (STATELESS upgrade, cancel) leaves its last checkpoint
   * behind as a Savepoint with origin RETAINED_CHECKPOINT (Flink's
   * `execution.checkpointing.externalized-checkpoint-retention: RETAIN_ON_CANCELLATION`, which
   * VVP's LATEST_STATE restore relies on). Default true.
   */
  retainedCheckpoints: boolean;
}

/** Defaults: an upgrade takes ~5 s of which 2 s look like the old job still running. */
export function defaultBehaviour(): Behaviour {
  return {
    staleRunningMs: 2000,
    savepointMs: 1000,
    terminateMs: 500,
    startMs: 1500,
    finishMs: 1000,
    restartIntervalMs: 2000,
    outcome: 'runs',
    outcomeQueue: [],
    outcomeRules: [],
    jobFailure: {
      reason: 'JobSubmissionFailed',
      message:
        'org.apache.flink.client.program.ProgramInvocationException: The program\'s entry point class ' +
        "'com.ververica.example.TopSpeedWindowing' was not found in the jar file.\n" +
        'Caused by: java.lang.ClassNotFoundException: com.ververica.example.TopSpeedWindowing',
    },
    savepointFailure: {
      reason: 'SavepointFailed',
      message:
        'java.util.concurrent.CompletionException: org.apache.flink.runtime.checkpoint.CheckpointException: ' +
        'Checkpoint Coordinator is suspending.',
    },
    restartFailure: {
      reason: 'FlinkJobRestarting',
      message:
        'java.lang.NullPointerException: Cannot invoke "com.ververica.example.CarEvent.getSpeed()" because "event" is null\n' +
        '\tat com.ververica.example.TopSpeedWindowing$SpeedMapper.map(TopSpeedWindowing.java:142)',
    },
    retainedCheckpoints: true,
  };
}

/** A partial behaviour as sent to the control API or written in a scenario. */
export type BehaviourPatch = Partial<Behaviour>;

const DURATION_KEYS = ['staleRunningMs', 'savepointMs', 'terminateMs', 'startMs', 'finishMs', 'restartIntervalMs'] as const;
const FAILURE_KEYS = ['jobFailure', 'savepointFailure', 'restartFailure'] as const;

/**
 * Validates a behaviour patch from JSON.
 * @throws ApiError 400 naming the bad field and the accepted values.
 */
export function parseBehaviourPatch(input: unknown): BehaviourPatch {
  if (!isPlainObject(input)) throw badRequest('behaviour must be an object');
  const patch: BehaviourPatch = {};
  for (const [key, value] of Object.entries(input)) {
    if ((DURATION_KEYS as readonly string[]).includes(key)) {
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
        throw badRequest(`behaviour.${key} must be a number >= 0, got ${JSON.stringify(value)}`);
      }
      patch[key as (typeof DURATION_KEYS)[number]] = value;
    } else if (key === 'outcome') {
      patch.outcome = parseOutcome(value, 'behaviour.outcome');
    } else if (key === 'outcomeQueue') {
      if (!Array.isArray(value)) throw badRequest('behaviour.outcomeQueue must be an array of outcomes');
      patch.outcomeQueue = value.map((v, i) => parseOutcome(v, `behaviour.outcomeQueue[${i}]`));
    } else if (key === 'outcomeRules') {
      if (!Array.isArray(value)) throw badRequest('behaviour.outcomeRules must be an array');
      patch.outcomeRules = value.map((rule, i) => {
        if (!isPlainObject(rule) || typeof rule.jarUriContains !== 'string') {
          throw badRequest(`behaviour.outcomeRules[${i}] must be {jarUriContains: string, outcome}`);
        }
        return { jarUriContains: rule.jarUriContains, outcome: parseOutcome(rule.outcome, `behaviour.outcomeRules[${i}].outcome`) };
      });
    } else if ((FAILURE_KEYS as readonly string[]).includes(key)) {
      const failureKey = key as (typeof FAILURE_KEYS)[number];
      if (!isPlainObject(value) || typeof value.message !== 'string') {
        throw badRequest(`behaviour.${key} must be {reason?: string, message: string}`);
      }
      patch[failureKey] = { reason: typeof value.reason === 'string' ? value.reason : defaultBehaviour()[failureKey].reason, message: value.message };
    } else if (key === 'retainedCheckpoints') {
      if (typeof value !== 'boolean') throw badRequest(`behaviour.retainedCheckpoints must be true or false, got ${JSON.stringify(value)}`);
      patch.retainedCheckpoints = value;
    } else {
      throw badRequest(
        `unknown behaviour field '${key}'; accepted: ${[...DURATION_KEYS, 'outcome', 'outcomeQueue', 'outcomeRules', ...FAILURE_KEYS, 'retainedCheckpoints'].join(', ')}`,
      );
    }
  }
  return patch;
}

function parseOutcome(value: unknown, field: string): Outcome {
  if (typeof value === 'string' && (OUTCOMES as readonly string[]).includes(value)) return value as Outcome;
  throw badRequest(`${field} must be one of ${OUTCOMES.join(', ')}, got ${JSON.stringify(value)}`);
}

/** Resolves the effective behaviour of a deployment from global defaults and its overrides. */
export class BehaviourBook {
  private global: Behaviour = defaultBehaviour();
  private readonly perDeployment = new Map<string, BehaviourPatch>();

  /** The global defaults (a copy). */
  getGlobal(): Behaviour {
    return structuredClone(this.global);
  }

  /** Merges into the global defaults. */
  setGlobal(patch: BehaviourPatch): void {
    // Cloned: taking outcomes shifts the stored queue, which must not be the caller's array.
    this.global = { ...this.global, ...structuredClone(patch) };
  }

  /** Merges into one deployment's overrides (a given `outcomeQueue` replaces the queue). */
  setFor(namespace: string, name: string, patch: BehaviourPatch): void {
    const key = `${namespace}/${name}`;
    this.perDeployment.set(key, { ...this.perDeployment.get(key), ...structuredClone(patch) });
  }

  /** Effective behaviour (a copy). */
  get(namespace: string, name: string): Behaviour {
    return structuredClone({ ...this.global, ...this.perDeployment.get(`${namespace}/${name}`) });
  }

  /**
   * Decides the outcome of the next transition of a deployment: the head of its queue
   * (consumed; the deployment's own queue first, then the global one), else the first
   * matching jarUri rule, else the default outcome.
   */
  takeOutcome(namespace: string, name: string, jarUri: string | undefined): Outcome {
    const own = this.perDeployment.get(`${namespace}/${name}`);
    if (own?.outcomeQueue && own.outcomeQueue.length > 0) return own.outcomeQueue.shift() as Outcome;
    if (this.global.outcomeQueue.length > 0) return this.global.outcomeQueue.shift() as Outcome;
    const effective = this.get(namespace, name);
    const rule = effective.outcomeRules.find((r) => jarUri !== undefined && jarUri.includes(r.jarUriContains));
    return rule ? rule.outcome : effective.outcome;
  }

  /**
   * Decides whether a savepoint outside an upgrade (suspension, user request) fails. A
   * `savepointFails` at the head of the queue is consumed; any other queued outcome is left for
   * the next job start, which it is meant for. With nothing queued, the jarUri rule or the
   * default outcome decides (without consuming anything).
   */
  savepointFails(namespace: string, name: string, jarUri: string | undefined): boolean {
    const own = this.perDeployment.get(`${namespace}/${name}`);
    const queue = own?.outcomeQueue && own.outcomeQueue.length > 0 ? own.outcomeQueue : this.global.outcomeQueue;
    if (queue.length > 0) {
      if (queue[0] !== 'savepointFails') return false;
      queue.shift();
      return true;
    }
    const effective = this.get(namespace, name);
    const rule = effective.outcomeRules.find((r) => jarUri !== undefined && jarUri.includes(r.jarUriContains));
    return (rule ? rule.outcome : effective.outcome) === 'savepointFails';
  }

  /** Forgets all overrides and restores the defaults. */
  clear(): void {
    this.global = defaultBehaviour();
    this.perDeployment.clear();
  }
}
