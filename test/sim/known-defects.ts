/**
 * Defects of the production code the simulation finds today, each excused by a predicate that
 * matches the violations it causes (and only those), so the committed simulation test stays green
 * while the fixes land. Delete an entry with its fix: the seeds it excused must then pass.
 * `npm run sim -- --seed S` shows excused violations too; `--strict` counts them as failures.
 */
import type { RunRecord } from './harness';
import type { Violation } from './invariants';

export interface KnownDefect {
  /** One sentence: what is wrong in the production code (and where). */
  defect: string;
  /** A seed that shows it (`npm run sim -- --seed <seed>`). */
  seed: number;
  /** True when `violation` of `run` is caused by this defect. */
  matches(run: RunRecord, violation: Violation): boolean;
}

const hasNulls = (run: RunRecord, prefix: string): boolean => run.scenario.faults.nullPaths.some((p) => p.startsWith(prefix));
const strategiesAfter = (run: RunRecord): string => {
  const spec = run.after.spec as { upgradeStrategy?: { kind?: string }; restoreStrategy?: { kind?: string } } | undefined;
  return `${spec?.upgradeStrategy?.kind}/${spec?.restoreStrategy?.kind}`;
};
const lateOrHung = (run: RunRecord): boolean => run.injected.some((f) => f.fault === 'hang' || f.fault.startsWith('late') || f.fault === 'lost');

export const KNOWN_DEFECTS: readonly KnownDefect[] = [
  {
    seed: 110,
    defect: 'An event with `metadata.jobId: null` (or another null field) crashes the diagnosis: clean() hands null to oneLine() (tasks/common/vvp/diagnosis.ts:71), so the events are lost to "Cannot read properties of null".',
    matches: (run, v) => v.code === 'I5-crashed' && /Cannot read properties of null/.test(v.message) && hasNulls(run, 'event:'),
  },
  {
    seed: 405,
    defect: "The rollback PUT sends back the nulls it read (restoreBody copies the spec as read, tasks/common/vvp/rollback-body.ts:23), so VVP stores a different template than before the step.",
    matches: (run, v) => v.code === 'I2-template' && hasNulls(run, 'deployment:spec.template'),
  },
  {
    seed: 81,
    defect: 'A rollback to a jarUri naming the same blob as the new one (only the query differs) is attempted and reported as rolledBack: true although that JAR was overwritten (no same-blob check before rollBack, tasks/VvpDeploy/VvpDeployV1/deploy.ts:192).',
    matches: (run, v) => v.code === 'I2-overwritten-blob' && run.scenario.history?.sameBlob === true,
  },
  {
    seed: 176,
    defect:
      'A rollback whose job does not start within the bound (or fails) returns without putting the strategies back (tasks/VvpDeploy/VvpDeployV1/phases/rollback.ts:101-108 return before line 122), leaving STATELESS + LATEST_SAVEPOINT, and the next deploy neither finishes it nor keeps the state.',
    matches: (run, v) => v.code.startsWith('I4-') && run.step.result?.rollback !== undefined && strategiesAfter(run) === 'STATELESS/LATEST_SAVEPOINT',
  },
  {
    seed: 436,
    defect:
      "The health check decides at the end of the window on the last probe that answered, however old (tasks/VvpDeploy/VvpDeployV1/phases/health.ts:57): a late, lost or hanging read makes it pass on a reading from before the job restarted, finished or was replaced.",
    matches: (run, v) => v.invariant === 1 && run.step.config.healthCheckInMs > 0 && run.step.result?.outcome === 'succeeded' && lateOrHung(run),
  },
  {
    seed: 14,
    defect:
      "Plan shows the spec file's and the live deployment's Flink credentials (fs.azure.account.key…, password): the PATCH body is logged unmasked (tasks/VvpDeploy/VvpDeployV1/plan.ts:58-59) and the diff masks only registered secrets (plan.ts:95, 102).",
    matches: (run, v) => run.step.config.action === 'plan' && /^I6-(accountKey|password)-/.test(v.code),
  },
  {
    seed: 32,
    defect: "Plan's summary rows show the live jarUri with its SAS: runPlan sets previousJarUri/jarUri from the live deployment without masking or registering its query credentials (tasks/VvpDeploy/VvpDeployV1/plan.ts:80; summary.ts:54, 56).",
    matches: (run, v) => run.step.config.action === 'plan' && /^I6-previousSig-/.test(v.code),
  },
  {
    seed: 16,
    defect:
      "Plan does not apply the deploy's blocking rules (upgradeStrategy NONE on a running deployment, a desired state other than RUNNING): it says the running job would be replaced where the deploy refuses the change (plan.ts:87-103 vs change-plan.ts:63-78).",
    matches: (_run, v) => v.code === 'I6-plan-disagrees',
  },
  {
    seed: 321,
    defect:
      "Without a usable upgrade savepoint (STATELESS before the step, rollbackStateFrom: restoreStrategy, or the savepoint could not be read) the rollback lets VVP's restore strategy pick the state, and LATEST_STATE picks the failed job's retained checkpoint (tasks/VvpDeploy/VvpDeployV1/phases/rollback.ts:63-65, 78); 1.2 says the rolled-back job must never start from the failed job's state.",
    matches: (_run, v) => v.code === 'I2-failed-job-state' && /RETAINED_CHECKPOINT|SUSPEND/.test(v.message),
  },
  {
    seed: 6342,
    defect:
      "The rollback's second PUT (strategies back, tasks/VvpDeploy/VvpDeployV1/phases/rollback.ts:122) does not re-read for changes made by others while the rolled-back job started, so it overwrites them (the first PUT checks, line 55).",
    matches: (run, v) => v.code === 'I3-write-after-change-PUT' && (run.step.result?.rollback?.outcome === 'succeeded' || run.step.result?.rollback?.outcome === 'error'),
  },
  {
    seed: 2032,
    defect:
      "delete sends DELETE after its cancel wait without re-reading for another party's change made meanwhile (tasks/VvpDeploy/VvpDeployV1/lifecycle.ts:211-220).",
    matches: (run, v) => v.code === 'I3-write-after-change-DELETE' && run.step.config.action === 'delete',
  },
  {
    seed: 370,
    defect:
      "delete trusts any 404 of its first read: an ingress page or a wrong path makes it report \"nothing to delete\" while the deployment exists (decideLifecycle, tasks/common/vvp/lifecycle.ts:35, on getDeployment's undefined).",
    matches: (run, v) => v.code === 'I1-not-deleted' && run.step.config.action === 'delete' && run.scenario.faults.firstRead404 && /nothing to delete/.test(run.step.result?.message ?? ''),
  },
  {
    seed: 2776,
    defect:
      'A rollback of a deployment that was SUSPENDED waits for a RUNNING job (tasks/VvpDeploy/VvpDeployV1/phases/rollback.ts:90-95) and blames "someone or something" for the SUSPENDED state it wrote itself, while VVP suspends the broken job with a savepoint a later resume restores.',
    matches: (run, v) => (v.code === 'I2-suspended-broken-state' || v.code === 'I2-rollback-untruthful') && run.before.spec?.state === 'SUSPENDED',
  },
  {
    seed: 1416,
    defect:
      "A POST whose answer is lost reads back and names the jarUri of the deployment it found without registering or masking its SAS (describe in createDeployment, tasks/VvpDeploy/VvpDeployV1/phases/apply.ts:76).",
    matches: (run, v) => v.code === 'I6-previousSig-message' && run.scenario.faults.firstRead404 && /creating deployment/.test(run.step.result?.message ?? ''),
  },
];

/** The known defect that explains `violation`, if any. */
export function excuseOf(run: RunRecord, violation: Violation): KnownDefect | undefined {
  return KNOWN_DEFECTS.find((d) => d.matches(run, violation));
}
