/**
 * The six promises of VvpDeploy 1.2 (TASKS.md, "Simulation testing"), and a seventh for SQL
 * deployments (TASKS.md, "Flink SQL as code": a refused script or a JAR ↔ SQL switch writes
 * nothing; the plan and the deploy agree), checked against the simulator's ground truth of one run. Each check returns the violations it found, each with a
 * stable code (what broke) and a message (the facts).
 */
import { sqlScriptSha256 } from '../../tasks/common/sql/script-input';
import { deepEqual } from '../../tasks/common/vvp/deployment-spec';
import type { JsonObject } from '../../tasks/common/vvp/resources';
import { READS_BOUND_MS } from '../../tasks/VvpDeploy/VvpDeployV1/phases/context';
import { DIAGNOSTICS_BOUND_MS } from '../../tasks/VvpDeploy/VvpDeployV1/phases/explain';
import type { RecordedRequest } from '../support/in-memory-vvp';
import type { RunRecord, Snapshot, StepRecord } from './harness';
import { NAME, SECRETS } from './scenario';
import { SQL_PASSWORD, verdictOf } from './sql-scenario';

export interface Violation {
  invariant: 1 | 2 | 3 | 4 | 5 | 6 | 7;
  /** Stable id of what broke, e.g. `I1-wrong-jar`. */
  code: string;
  message: string;
}

/** Every violation of one run, in invariant order. */
export function checkInvariants(run: RunRecord): Violation[] {
  return [...successIsReal(run), ...rollbackIsReal(run), ...(run.step.result?.rolledBack ? [] : suspendedStateKept(run)), ...noOverwrite(run), ...strategiesKept(run), ...bounded(run), ...noSecrets(run), ...sqlPromises(run)];
}

// ---- helpers ------------------------------------------------------------------------------

const kindOf = (spec: JsonObject | undefined, field: 'upgradeStrategy' | 'restoreStrategy'): string | undefined => {
  const value = spec?.[field];
  return value && typeof value === 'object' && !Array.isArray(value) && typeof value.kind === 'string' ? value.kind : undefined;
};
const strategiesOf = (s: Snapshot): string => `${kindOf(s.spec, 'upgradeStrategy')}/${kindOf(s.spec, 'restoreStrategy')}`;
const jarOfSpec = (spec: JsonObject | undefined): string | undefined => (spec ? ((spec.template as any)?.spec?.artifact?.jarUri as string | undefined) : undefined);
const blobOf = (uri: string | undefined): string | undefined => uri?.split('?')[0];

/** What a job or a template runs, as one comparable value: `sql:` and the exact script, or the jarUri. */
const runsOf = (x: { jarUri?: string | null; sqlScript?: string | null } | null | undefined): string | undefined =>
  !x ? undefined : typeof x.sqlScript === 'string' ? `sql:${x.sqlScript}` : (x.jarUri ?? undefined);
const runsOfSpec = (spec: JsonObject | undefined): string | undefined => {
  const artifact = (spec?.template as any)?.spec?.artifact;
  return artifact?.kind === 'SQLSCRIPT' ? `sql:${String(artifact.sqlScript)}` : jarOfSpec(spec);
};
const runsOfConfig = (config: StepRecord['config']): string => (config.artifact.kind === 'SQLSCRIPT' ? `sql:${config.artifact.sqlScript}` : config.jarUri);
/** How a message names what runs: a jarUri as is, a script by its SHA-256 (its text may hold credentials). */
const shown = (runs: string | undefined | null): string => (runs?.startsWith('sql:') ? `the SQL script sha256 ${sqlScriptSha256(runs.slice(4)).slice(0, 12)}` : String(runs));

/** The requests the step's flow sent (the other party's excluded). */
function agentRequests(run: RunRecord, step: StepRecord): RecordedRequest[] {
  const others = new Set(run.otherWrites.map((w) => w.seq));
  return run.requests.filter((r) => r.seq > step.requestsFrom && r.seq <= step.requestsTo && !others.has(r.seq));
}

/** A request that changes something: SQL validation (a POST that reads) is none. */
const isWrite = (r: RecordedRequest): boolean => r.method !== 'GET' && !r.path.startsWith('/sql/');
const isDeploymentRead = (r: RecordedRequest): boolean => r.method === 'GET' && /\/deployments\/[^/]+$/.test(r.path);
const answeredAt = (r: RecordedRequest): number => Date.parse(r.at) + (r.durationMs ?? 0);

// ---- 1. Succeeded ⇒ what was asked for is real --------------------------------------------

function successIsReal(run: RunRecord): Violation[] {
  const { result } = run.step;
  const config = run.step.config;
  if (!result) return [];
  const out: Violation[] = [];
  const v = (code: string, message: string): void => void out.push({ invariant: 1, code, message });
  const truth = run.after.truth;
  const claims = result.outcome === 'succeeded' || (result.outcome === 'upToDate' && (config.action !== 'deploy' || config.waitForRunning));
  if (!claims) return out;
  const job = truth?.runningJob;
  const healthy = (): void => {
    if (result.outcome !== 'succeeded' || config.healthCheckInMs === 0 || !truth) return;
    const watched = truth.jobs.find((j) => j.id === result.jobId);
    if (!watched || watched.state !== 'STARTED') return v('I1-health-job-gone', `the health check passed but job ${result.jobId} is ${watched?.state ?? 'unknown'} at the end`);
    if ((watched.restarts ?? 0) > config.maxJobRestarts) return v('I1-health-restarts', `the health check passed but job ${result.jobId} restarted ${watched.restarts} times (max ${config.maxJobRestarts})`);
    if (watched.flinkStatus === 'RESTARTING') v('I1-health-restarting', `the health check passed but job ${result.jobId} is RESTARTING at the end of the window`);
  };
  switch (config.action) {
    case 'deploy':
    case 'resume': {
      // A resume asks for the template the deployment had when the step resumed it (another party may change it later).
      const specOf = (t: typeof truth): string | undefined => runsOf(t && { jarUri: t.specJarUri, sqlScript: t.specSqlScript });
      // Another party's new artifact that landed before the resume's write is what the resume started.
      const resumeWrite = agentRequests(run, run.step).find((r) => r.method === 'PATCH' && (r.body as any)?.spec?.state !== undefined);
      const changedFirst = resumeWrite !== undefined && run.otherWrites.some((w) => w.kind === 'artifact' && w.status === 200 && w.seq < resumeWrite.seq);
      const wanted = config.action === 'deploy' ? runsOfConfig(config) : changedFirst ? specOf(truth) : (specOf(run.before.truth) ?? specOf(truth));
      // Without a health check, success means the new job STARTED; a bounded job may FINISH right after.
      const finishedSince = !job && config.healthCheckInMs === 0 && truth?.jobs.some((j) => j.id === result.jobId && j.state === 'FINISHED' && runsOf(j) === wanted);
      // Another party's later change may have started a transition after the verified start.
      const othersMoved = !job && truth?.statusState === 'TRANSITIONING' && run.otherWrites.length > 0;
      if (!job && !finishedSince && !othersMoved) return v('I1-no-job', `${result.outcome} but no job runs (status ${truth?.statusState ?? 'deployment gone'})`), out;
      if (!job) return out;
      if (runsOf(job) !== wanted) v(wanted?.startsWith('sql:') ? 'I1-wrong-script' : 'I1-wrong-jar', `${result.outcome} but the running job ${job.id} runs ${shown(runsOf(job))}, not ${shown(wanted)}`);
      else if (result.jobId !== job.id) v('I1-wrong-job-id', `${result.outcome} with jobId ${result.jobId} but job ${job.id} runs`);
      healthy();
      break;
    }
    case 'suspend':
    case 'cancel': {
      const wanted = config.action === 'suspend' ? 'SUSPENDED' : 'CANCELLED';
      if (truth?.statusState !== wanted || job) v('I1-not-stopped', `${result.outcome} but the deployment is ${truth?.statusState ?? 'gone'}${job ? ` with job ${job.id} running` : ''}`);
      break;
    }
    case 'delete':
      if (run.after.exists) v('I1-not-deleted', `${result.outcome} ("${result.message}") but the deployment still exists (${truth?.statusState})`);
      break;
    case 'savepoint': {
      const id = run.step.outputs.savepointId?.value;
      const savepoint = truth?.savepoints.find((s) => s.id === id);
      if (!savepoint || savepoint.state !== 'COMPLETED') v('I1-savepoint', `${result.outcome} but savepoint ${id} is ${savepoint?.state ?? 'unknown'}`);
      break;
    }
    default:
      break;
  }
  return out;
}

// ---- 2. rolledBack ⇒ the previous deployment is back, with the state from before ----------

function rollbackIsReal(run: RunRecord): Violation[] {
  const { result } = run.step;
  if (!result?.rolledBack) return [];
  const out: Violation[] = [];
  const v = (code: string, message: string): void => void out.push({ invariant: 2, code, message });
  const { before, after } = run;
  if (!before.exists || !before.spec || !before.truth) return [{ invariant: 2, code: 'I2-nothing-before', message: 'rolledBack: true but the deployment did not exist before the step' }];
  const previousJar = jarOfSpec(before.spec);
  const previous = runsOfSpec(before.spec);
  const newJar = run.step.config.jarUri;
  if (newJar !== '' && previousJar !== undefined && previousJar !== newJar && blobOf(previousJar) === blobOf(newJar)) {
    v('I2-overwritten-blob', `rolledBack: true to ${previousJar}, which names the blob the step overwrote (${blobOf(newJar)}): that JAR no longer exists`);
  }
  const truth = after.truth;
  const desiredBefore = String(before.spec.state);
  out.push(...suspendedStateKept(run));
  if (!truth || !after.spec) return [...out, { invariant: 2, code: 'I2-gone', message: 'rolledBack: true but the deployment is gone' }];
  // Another party may change the template again after the rollback verified it: not the rollback's claim.
  const lastPut = agentRequests(run, run.step).filter((r) => r.method === 'PUT').pop();
  if (lastPut && run.otherWrites.some((w) => w.seq > lastPut.seq)) return out;
  if (!deepEqual(after.spec.template, before.spec.template)) v('I2-template', 'rolledBack: true but the stored template differs from the one before the step');
  if (desiredBefore !== 'RUNNING') {
    if (after.spec.state !== desiredBefore || truth.runningJob) v('I2-state', `rolledBack: true; before the step the deployment was ${desiredBefore}, now spec.state ${String(after.spec.state)}${truth.runningJob ? ` with job ${truth.runningJob.id} running` : ''}`);
    return out;
  }
  const job = truth.runningJob;
  if (!job || runsOf(job) !== previous) return [...out, { invariant: 2, code: 'I2-not-running', message: `rolledBack: true but ${job ? `job ${job.id} runs ${shown(runsOf(job))}` : 'no job runs'}, not ${shown(previous)}` }];
  const startedAt = new Date(run.step.startedAtMs).toISOString();
  const previousJobId = before.truth.runningJob?.id;
  const upgrade = truth.savepoints.find((s) => s.jobId === previousJobId && (s.origin === 'SUSPEND' || s.origin === 'SUSPEND_AND_UPGRADE') && s.createdAt >= startedAt && s.state === 'COMPLETED');
  // The job from before the step may never have been replaced (the upgrade stalled): it keeps its live state.
  if (upgrade && job.id !== previousJobId && run.step.config.rollbackStateFrom === 'upgradeSavepoint' && job.savepointLocation !== upgrade.savepointLocation) {
    v('I2-state-not-upgrade-savepoint', `the rolled-back job ${job.id} restored ${job.savepointLocation ?? 'no state'}, not the upgrade savepoint ${upgrade.savepointLocation}`);
  }
  const knownBefore = new Set(before.truth.jobs.map((j) => j.id));
  const stepJobs = new Set(truth.jobs.filter((j) => !knownBefore.has(j.id) && j.id !== job.id).map((j) => j.id));
  const failedState = truth.savepoints.find((s) => s.jobId !== null && stepJobs.has(s.jobId) && s.savepointLocation === job.savepointLocation);
  // rollbackStateFrom: restoreStrategy asks for VVP's restore strategy to choose (documented: it may pick the failed job's checkpoint).
  if (failedState && run.step.config.rollbackStateFrom !== 'restoreStrategy') v('I2-failed-job-state', `the rolled-back job ${job.id} restored ${failedState.origin} ${failedState.savepointLocation} of the step's job ${failedState.jobId}`);
  return out;
}

/**
 * A rollback to a deployment that was SUSPENDED restores the state it had: VVP must not have
 * taken a suspend savepoint of the step's (broken) job, which a later resume would restore.
 */
function suspendedStateKept(run: RunRecord): Violation[] {
  const { before, settled: after } = run;
  if (!before.truth || before.spec?.state !== 'SUSPENDED' || !after.truth) return [];
  const rollbackWrote = agentRequests(run, run.step).some((r) => r.method === 'PUT');
  if (!rollbackWrote) return [];
  const knownBefore = new Set(before.truth.jobs.map((j) => j.id));
  const broken = after.truth.savepoints.find((s) => s.origin === 'SUSPEND' && s.jobId !== null && !knownBefore.has(s.jobId) && s.state === 'COMPLETED');
  const out: Violation[] = [];
  if (/someone or something changed it/.test(run.step.result?.message ?? '') && run.otherWrites.length === 0) {
    out.push({ invariant: 2, code: 'I2-rollback-untruthful', message: `the step blames a change by someone else, but nobody else wrote: ${excerpt(run.step.result?.message ?? '', 'someone or something')}` });
  }
  return broken
    ? [...out, { invariant: 2, code: 'I2-suspended-broken-state', message: `the rollback to the SUSPENDED deployment suspended the step's job ${broken.jobId} with savepoint ${broken.savepointLocation}: a resume would restore the broken job's state (rolledBack: ${run.step.result?.rolledBack})` }]
    : out;
}

// ---- 3. No overwrite of another party's change; one template write per intent -------------

function noOverwrite(run: RunRecord): Violation[] {
  const out: Violation[] = [];
  const agent = agentRequests(run, run.step);
  for (const other of run.otherWrites) {
    if (other.status !== 200) continue;
    // A write of ours still in flight may land after theirs and hide it: then no read shows their change.
    if (agent.some((r) => isWrite(r) && r.seq < other.seq && (r.status === null || answeredAt(r) >= other.atMs))) continue;
    const baseline = agent.find((r) => isDeploymentRead(r) && r.status === 200 && (answeredAt(r) < other.atMs || (r.seq < other.seq && !r.fault)));
    if (!baseline) continue;
    const seen = agent.find((r) => isDeploymentRead(r) && r.status === 200 && r.seq > other.seq);
    if (!seen) continue;
    const write = agent.find((r) => isWrite(r) && r.seq > seen.seq && r.path.includes('/deployments'));
    if (write) {
      out.push({
        invariant: 3,
        code: `I3-write-after-change-${write.method}`,
        message: `${write.method} ${write.path} (request ${write.seq}) after the other party's ${other.kind} change (request ${other.seq}) was read (request ${seen.seq})`,
      });
    }
  }
  const templateWrites = agent.filter((r) => (r.method === 'PATCH' || r.method === 'POST') && /\/deployments(\/[^/]+)?$/.test(r.path) && (r.body as any)?.spec?.template !== undefined);
  if (templateWrites.length > 1) out.push({ invariant: 3, code: 'I3-repeated-write', message: `${templateWrites.length} template-changing writes for one change: ${templateWrites.map((r) => `${r.method} #${r.seq}`).join(', ')}` });
  const puts = agent.filter((r) => r.method === 'PUT');
  const putTemplates = puts.map((r) => JSON.stringify((r.body as any)?.spec?.template)).filter((t, i, all) => i === 0 || t !== all[i - 1]);
  if (putTemplates.length > 1) out.push({ invariant: 3, code: 'I3-repeated-rollback', message: `the rollback wrote ${putTemplates.length} different templates` });
  const stateWrites = agent.filter((r) => r.method === 'PATCH' && (r.body as any)?.spec?.state !== undefined && (r.body as any)?.spec?.template === undefined);
  if (stateWrites.length > 1) out.push({ invariant: 3, code: 'I3-repeated-state-write', message: `${stateWrites.length} spec.state writes for one action` });
  return out;
}

// ---- 4. Strategies are the old ones or the asked ones; the next upgrade keeps the state ----

function strategiesKept(run: RunRecord): Violation[] {
  const { before, after, second } = run;
  const config = run.step.config;
  if (config.action === 'plan' || !before.exists || !before.spec) return [];
  const pre = strategiesOf(before);
  const preUpgrade = kindOf(before.spec, 'upgradeStrategy');
  const preRestore = kindOf(before.spec, 'restoreStrategy');
  const asked =
    config.action === 'deploy'
      ? `${config.upgradeStrategy ?? preUpgrade}/${config.restoreStrategy ?? preRestore}`
      : config.action === 'resume'
        ? `${preUpgrade}/${config.restoreStrategy ?? preRestore}`
        : pre;
  const allowed = new Set([pre, asked]);
  const out: Violation[] = [];
  if (!after.exists) return out;
  const afterStep = strategiesOf(after);
  const leftTrap = !allowed.has(afterStep);
  if (leftTrap && (run.step.result?.outcome === 'succeeded' || run.step.result?.outcome === 'upToDate')) {
    out.push({ invariant: 4, code: 'I4-succeeded-with-other-strategies', message: `the step succeeded but left strategies ${afterStep} (before ${pre}, asked ${asked})` });
  }
  if (!second) {
    if (leftTrap) out.push({ invariant: 4, code: 'I4-left-strategies', message: `the step left strategies ${afterStep} (before ${pre}, asked ${asked}) and no next step ran` });
    return out;
  }
  const afterNext = strategiesOf(second.after);
  if (second.after.exists && !allowed.has(afterNext)) {
    out.push({ invariant: 4, code: 'I4-left-strategies', message: `after the step strategies were ${afterStep}, after the next deploy ${afterNext} (before ${pre}, asked ${asked})` });
  }
  // The next STATEFUL upgrade must restore from a savepoint of the job that ran before it.
  // A step that rolled back (or tried to) leaves the deployment as before it: its strategies are the ones to end up with.
  const intendedUpgrade = (leftTrap ? (run.step.result?.rollback ? pre : asked) : afterStep).split('/')[0];
  const result = second.step.result;
  const previousJob = second.before.truth?.runningJob;
  const newJob = second.after.truth?.runningJob;
  if (intendedUpgrade === 'STATEFUL' && result?.outcome === 'succeeded' && previousJob && newJob && newJob.id !== previousJob.id) {
    const ofPrevious = second.after.truth?.savepoints.filter((s) => s.jobId === previousJob.id).map((s) => s.savepointLocation) ?? [];
    if (!ofPrevious.includes(newJob.savepointLocation ?? '')) {
      out.push({
        invariant: 4,
        code: 'I4-next-upgrade-lost-state',
        message: `the next deploy's job ${newJob.id} restored ${newJob.savepointLocation ?? 'no state'}, not a savepoint of job ${previousJob.id} that ran before it (strategies then ${strategiesOf(second.before)})`,
      });
    }
  }
  return out;
}

// ---- 5. The step ends within its bounds --------------------------------------------------

/** One call that hangs: the in-memory VVP fails it like VvpClient after its request timeout. */
const REQUEST_MS = 30_000;
/**
 * How long a write whose answer was lost is read back: the documented promise (docs/troubleshooting.md,
 * "for up to 10 s the step reads the deployment back"), plus one pause between read-backs (1 s) at
 * which the last read may start. The simulation holds the promise rather than send-once's private
 * constants: a step reading back longer than documented overruns its bound (test/deploy/send-once
 * pins the 10 s on the code's side).
 */
const READ_BACK_MS = 10_000 + 1_000;
/** A write sent once: its own timeout, then the read-back, whose last read may hang too. */
const WRITE_MS = REQUEST_MS + READ_BACK_MS + REQUEST_MS;
/** The longest a wait's probe runs past the wait (PROBE_GRACE_MAX_MS in await-job.ts). */
const PROBE_GRACE_MS = 5_000;
/** After the agent cancels, the step ends at once (every sleep and call takes the abort signal). */
export const CANCEL_GRACE_MS = 0;

/**
 * The longest a step may take in virtual time, from the code's own bounds (T = timeoutMinutes,
 * H = healthCheckSeconds):
 * - deploy: read (2 calls) + the write + the wait (T + probe grace) + the upgrade savepoint
 *   lookup and the diagnostics (bounded reads) + the health check (H + a probe past it + the
 *   events), then a rollback: read, COPIED savepoint write, jobs, PUT + read, the wait again,
 *   the job, the strategies PUT + read, and the rolled-back job's health check.
 * - lifecycle: read, jobs, the write, a wait whose probe may start just before T and hang, the
 *   diagnostics, a resumed job's health check; delete adds a second write and wait.
 * - plan: one read.
 * - SQL scripts (deploy and plan): VVP's validation first, within its own bound.
 */
export function stepBoundMs(config: StepRecord['config']): number {
  const T = config.timeoutInMs;
  const H = config.healthCheckInMs;
  const D = DIAGNOSTICS_BOUND_MS;
  // VVP's validation of a SQL script, before anything else: its own bound, whatever the statements.
  const sqlCheck = config.artifact.kind === 'SQLSCRIPT' && config.online ? READS_BOUND_MS : 0;
  const health = H > 0 ? H + 2 * D : 0;
  switch (config.action) {
    case 'plan':
      return sqlCheck + REQUEST_MS;
    case 'deploy': {
      const forward = sqlCheck + 2 * REQUEST_MS + WRITE_MS + T + PROBE_GRACE_MS + D + health + D;
      const rollback = config.rollbackOnFailure ? REQUEST_MS + WRITE_MS + REQUEST_MS + (WRITE_MS + REQUEST_MS) + T + PROBE_GRACE_MS + REQUEST_MS + (WRITE_MS + REQUEST_MS) + health : 0;
      return forward + rollback;
    }
    default:
      return 2 * REQUEST_MS + 2 * (WRITE_MS + T + REQUEST_MS) + 3 * D + health;
  }
}

function bounded(run: RunRecord): Violation[] {
  const { step } = run;
  if (step.hung) return [{ invariant: 5, code: 'I5-hung', message: 'the step neither ended nor waited on virtual time (a promise nobody resolves)' }];
  if (step.thrown !== undefined) return [{ invariant: 5, code: 'I5-threw', message: `the flow threw instead of returning a result: ${(step.thrown as Error)?.stack ?? String(step.thrown)}` }];
  const crash = step.result?.error;
  const message = step.result?.message ?? '';
  const bug = /[^.:(]*(Cannot read properties of|is not a function|is not iterable)[^)\n]*/.exec(message);
  if (crash instanceof TypeError || crash instanceof RangeError || crash instanceof ReferenceError || bug) {
    return [{ invariant: 5, code: 'I5-crashed', message: `the flow met a programming error instead of an answer it can explain: ${bug ? bug[0].trim() : crash?.stack?.split('\n').slice(0, 3).join(' ')}` }];
  }
  const took = step.endedAtMs - step.startedAtMs;
  const bound = stepBoundMs(step.config);
  const out: Violation[] = [];
  if (took > bound) out.push({ invariant: 5, code: 'I5-overran', message: `the step took ${took / 1000} s of virtual time, bound ${bound / 1000} s` });
  if (run.cancelledAtMs !== undefined) {
    if (step.endedAtMs - run.cancelledAtMs > CANCEL_GRACE_MS) out.push({ invariant: 5, code: 'I5-cancel-slow', message: `cancelled at ${(run.cancelledAtMs - step.startedAtMs) / 1000} s, ended ${(step.endedAtMs - run.cancelledAtMs) / 1000} s later` });
    if (step.result && step.result.outcome !== 'cancelled') out.push({ invariant: 5, code: 'I5-cancel-ignored', message: `cancelled at ${(run.cancelledAtMs - step.startedAtMs) / 1000} s, but the outcome is ${step.result.outcome}` });
  }
  return out;
}

// ---- 6. No secret shown; plan never writes ------------------------------------------------

function noSecrets(run: RunRecord): Violation[] {
  const { step } = run;
  const out: Violation[] = [];
  const registered = new Set(step.registered);
  const places: [string, string][] = [
    ...step.logs.map((l, i): [string, string] => [`log line ${i + 1}`, l]),
    ['message', step.result?.message ?? ''],
    ['summary', step.summary],
  ];
  const never = { accountKey: SECRETS.accountKey, password: SECRETS.password, token: SECRETS.token, sqlPassword: SQL_PASSWORD };
  const unlessRegistered = { newSig: SECRETS.newSig, previousSig: SECRETS.previousSig };
  const seen = new Set<string>();
  for (const [where, text] of places) {
    for (const [name, secret] of Object.entries(never)) {
      if (text.includes(secret) && !registered.has(secret) && !seen.has(name)) {
        seen.add(name);
        out.push({ invariant: 6, code: `I6-${name}-${where.startsWith('log') ? 'log' : where}`, message: `${name} shown in the ${where}: ${excerpt(text, secret)}` });
      }
    }
    for (const [name, secret] of Object.entries(unlessRegistered)) {
      if (text.includes(secret) && !registered.has(secret) && !seen.has(name)) {
        seen.add(name);
        out.push({ invariant: 6, code: `I6-${name}-${where.startsWith('log') ? 'log' : where}`, message: `${name} (not registered as a secret) shown in the ${where}: ${excerpt(text, secret)}` });
      }
    }
  }
  for (const [name, output] of Object.entries(step.outputs)) {
    const carries = Object.values({ ...never, ...unlessRegistered }).some((s) => output.value.includes(s));
    if (carries && !output.secret) out.push({ invariant: 6, code: `I6-output-${name}`, message: `output ${name} carries a credential but is not a secret variable` });
  }
  // The plan of a change tells what the deploy of it does: no "the running job would be replaced" for a change the deploy refuses.
  if (run.plan && step.result?.outcome === 'blocked' && run.plan.restartRequired === true) {
    out.push({ invariant: 6, code: 'I6-plan-disagrees', message: `the plan says "${run.plan.message}", but the deploy refuses the change: ${step.result.message.slice(0, 160)}` });
  }
  if (step.config.action === 'plan') {
    const writes = agentRequests(run, step).filter(isWrite);
    if (writes.length > 0) out.push({ invariant: 6, code: 'I6-plan-wrote', message: `plan sent ${writes.map((w) => `${w.method} ${w.path}`).join(', ')}` });
  }
  return out;
}

// ---- 7. SQL scripts: refused before any write; the plan and the deploy agree --------------

const CLAIMS_SUCCESS = new Set(['succeeded', 'upToDate', 'applied']);

function sqlPromises(run: RunRecord): Violation[] {
  const { scenario, step, before } = run;
  const { config, result } = step;
  const out: Violation[] = [];
  const v = (code: string, message: string): void => void out.push({ invariant: 7, code, message });
  if (config.action !== 'deploy' && config.action !== 'plan') return out;
  // A write VVP refused changed nothing; so did a create of a name that exists (VVP answers 409
  // even when the answer is lost): the step may POST after a 404 from an ingress (first-read-404).
  const writes = agentRequests(run, step).filter((r) => isWrite(r) && !(r.status !== null && r.status >= 400) && !(r.method === 'POST' && before.exists && /\/deployments$/.test(r.path)));
  const wrote = writes.map((w) => `${w.method} ${w.path} (request ${w.seq})`).join(', ');
  const outcome = result?.outcome;
  const cancelled = run.cancelledAtMs !== undefined;
  const sql = scenario.sql;
  const verdict = sql ? verdictOf(sql) : undefined;

  // A script the offline check or VVP refuses: nothing written, never a success, the problem at its line.
  const refused = verdict === 'refusedOffline' || (verdict === 'refusedByVvp' && config.online);
  if (sql && refused) {
    if (writes.length > 0) v('I7-refused-script-written', `the ${sql.case} script is refused (${verdict}), but the step sent ${wrote}`);
    if (outcome && CLAIMS_SUCCESS.has(outcome)) v('I7-refused-script-succeeded', `the ${sql.case} script is refused (${verdict}), but the step ended ${outcome}: ${result?.message}`);
    const validationFaulted = run.injected.some((f) => f.call === 'validateSqlScript');
    const expectBlocked = verdict === 'refusedOffline' || !validationFaulted;
    if (expectBlocked && !cancelled && result && outcome !== 'blocked') v('I7-refused-script-not-blocked', `the ${sql.case} script is refused (${verdict}), but the step ended ${outcome}: ${result.message}`);
    const problems = result?.sqlProblems?.problems ?? [];
    if (expectBlocked && outcome === 'blocked' && !problems.some((p) => p.position?.line === sql.problemLine)) {
      const lines = problems.map((p) => (p.position ? `line ${p.position.line}` : 'no line')).join(', ') || 'nothing';
      v('I7-annotation-line', `the ${sql.case} script's problem is at line ${sql.problemLine}, the step annotates ${lines}: ${problems[0]?.message ?? '(no problem)'}`);
    }
  }
  // A script VVP cannot run: never a success.
  if (sql && verdict === 'failsAtStart' && config.action === 'deploy' && outcome && CLAIMS_SUCCESS.has(outcome) && outcome !== 'applied') {
    v('I7-failing-script-succeeded', `the job of the ${sql.case} script cannot start, but the step ended ${outcome}: ${result?.message}`);
  }
  // A JAR ↔ SQL switch: refused before any write.
  const kindBefore = before.exists ? ((before.spec?.template as any)?.spec?.artifact?.kind as string | undefined) : undefined;
  if (config.action === 'deploy' && kindBefore && kindBefore !== config.artifact.kind) {
    if (writes.length > 0) v('I7-switch-written', `the deployment holds a ${kindBefore} artifact and the step deploys ${config.artifact.kind}, but it sent ${wrote}`);
    if (outcome && CLAIMS_SUCCESS.has(outcome)) v('I7-switch-succeeded', `the deployment holds a ${kindBefore} artifact and the step deploys ${config.artifact.kind}, but it ended ${outcome}: ${result?.message}`);
    if (!cancelled && result && outcome !== 'blocked' && !run.injected.length) v('I7-switch-not-blocked', `a ${kindBefore} → ${config.artifact.kind} switch ended ${outcome}, not blocked: ${result.message}`);
  }
  // A job that cannot start fails the step with Flink's message (when nothing else went wrong first).
  const startFailed = run.after.truth?.jobs.some((j) => j.sqlScript === sql?.script && j.state === 'FAILED');
  if (sql && verdict === 'failsAtStart' && config.action === 'deploy' && outcome === 'failed' && startFailed && run.injected.length === 0 && !cancelled && !/Object 'no_such_sink' not found/.test(result?.message ?? '')) {
    v('I7-start-failure-unexplained', `the job of the ${sql.case} script failed to start, but the step's message does not carry Flink's: ${result?.message}`);
  }
  // An online plan of a changed script shows the script as a line diff.
  const previousScript = (before.spec?.template as any)?.spec?.artifact?.sqlScript;
  if (sql && config.action === 'plan' && outcome === 'planned' && !/^Plan \(offline\)/.test(result?.message ?? '') && typeof previousScript === 'string' && previousScript !== sql.script && !step.logs.some((l) => /sqlScript: \(line diff\)$/.test(l))) {
    v('I7-plan-no-line-diff', `the plan of a changed script shows no line diff of sqlScript: ${result?.message}`);
  }
  // The output sqlScriptSha256 names the script sent.
  if (result && config.artifact.kind === 'SQLSCRIPT' && step.outputs.sqlScriptSha256?.value !== config.artifact.sha256) {
    v('I7-sha256-output', `sqlScriptSha256 is '${step.outputs.sqlScriptSha256?.value}', the script sent has sha256 ${config.artifact.sha256}`);
  }
  // The plan of the change (run first, fault-free) and the deploy of it agree about the script.
  const plan = run.plan;
  if (plan && config.action === 'deploy' && result) {
    if (plan.sqlProblems && (writes.length > 0 || CLAIMS_SUCCESS.has(result.outcome))) v('I7-plan-refused-deploy-went', `the plan refused the script (${plan.message.slice(0, 160)}), but the deploy ended ${result.outcome}${writes.length ? ` after ${wrote}` : ''}`);
    // Nobody else wrote before the step's read: both judged the same deployment.
    if (plan.outcome === 'planned' && run.otherWrites.length === 0 && result.restartRequired !== undefined && plan.restartRequired !== result.restartRequired) {
      v('I7-plan-restart-disagrees', `the plan says restartRequired ${plan.restartRequired} (${plan.message.slice(0, 120)}), the deploy ${result.restartRequired} (${result.outcome})`);
    }
    if (result.sqlProblems && plan.outcome !== 'blocked') v('I7-plan-missed-problem', `the deploy refused the script (${result.message.slice(0, 160)}), but the plan said: ${plan.message.slice(0, 160)}`);
  }
  return out;
}

function excerpt(text: string, secret: string): string {
  const at = text.indexOf(secret);
  return JSON.stringify(text.slice(Math.max(0, at - 60), at + secret.length + 20));
}

export { NAME };
