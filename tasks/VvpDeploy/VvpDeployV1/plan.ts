/**
 * `action: plan`: what a deploy would change, without writing anything. Offline, always: the
 * spec file validated against the VVP Deployment schema shipped with the task and the body the
 * deploy would send. Online, when a token source is given and reachable: the live deployment
 * read (GETs only) and the change shown as a diff, with what it means for the running job.
 */
import { CancelledError, InputError, isAbortError } from '../../common/errors/errors';
import { inGroup, type Logger } from '../../common/logging/logger';
import { fencedBlock, markdownText } from '../../common/logging/markdown';
import { maskSecrets } from '../../common/logging/secret-mask';
import type { VvpApi } from '../../common/vvp/vvp-api';
import { DeploymentFailedError, oneLine } from '../../common/vvp/errors';
import { MASK, maskJarUriQuery } from '../../common/vvp/jar-uri-secrets';
import { isSensitiveConfigKey } from '../../common/vvp/sensitive-keys';
import { jarUriOf, runningJobIdOf, type JsonObject } from '../../common/vvp/resources';
import { decideChange, decideCreate, sentBody } from './decide';
import { planDeploymentChange, planHeadline, renderPlanLines, renderPlanMarkdown } from '../../common/vvp/spec-diff';
import { validateDeploymentSpec } from '../../common/vvp/spec-schema';
import { describeArtifact } from '../../common/vvp/artifact';
import { checkScript } from './phases/check-sql';
import { readBaseline } from './phases/read';
import { READS_BOUND_MS } from './phases/context';
import { maskSensitiveOptions } from '../../common/sql/mask-options';
import { describeStrategies, unfinishedRollbackOf, UNFINISHED_ROLLBACK_ANNOTATION } from '../../common/vvp/rollback-body';
import { identityOf, startingResult, type DeployResult } from './deploy-result';
import type { DeployConfig } from './inputs';
import type { Clock } from '../../common/poll/clock';


/** What a plan needs: VVP only when it runs online. */
interface PlanDeps {
  /** Undefined: offline (no token source, or it failed: then `offlineReason` says why). */
  vvp?: VvpApi;
  /** Why the plan is offline although a token source was given (a warning, SucceededWithIssues). */
  offlineReason?: string;
  clock: Clock;
  logger: Logger;
  abortSignal?: AbortSignal;
}

/** Runs the plan; like every action, never throws for an expected failure. Never writes. */
export async function runPlan(config: DeployConfig, deps: PlanDeps): Promise<DeployResult> {
  const { logger, clock } = deps;
  const startedAtMs = clock.now();
  const base = startingResult(config, startedAtMs);
  const done = (result: Partial<DeployResult> & Pick<DeployResult, 'outcome' | 'message'>): DeployResult => ({ ...base, action: 'plan', ...result, finishedAtMs: clock.now() });
  const patch = sentBody(config);

  const why = deps.offlineReason ?? 'no token source is given (keyVaultName or vvpServiceConnection), so the live deployment was not read';
  const offline = await inGroup(logger, 'Plan: check the spec', async () => {
    if (config.specFile) {
      const problems = validateDeploymentSpec(config.specFile.document);
      if (problems.length > 0) {
        return new InputError(problems.map((p) => ({ input: 'deploymentSpecFile', expected: `${config.specFile?.path}: ${p.message}` })));
      }
      logger.info(`${config.specFile.path} is a valid VVP Deployment (the AppManager API schema shipped with the task; unknown fields are refused).`);
    }
    logger.info(config.artifact.kind === 'JAR' ? `jarUri: ${maskJarUriQuery(config.jarUri)}` : `SQL script: ${describeArtifact(config.artifact)}`);
    // The script's shape is checked offline always; VVP's validation follows when it is reachable.
    const checked = await checkScript(config, { ...deps, vvp: undefined });
    if (checked.error) return { error: checked.error, sqlProblems: checked.problems };
    // Online, the diff against the live deployment shows the change; the body only when there is nothing to compare with.
    if (!deps.vvp) {
      logBody(logger, patch);
      if (deps.offlineReason) logger.warn(`Offline plan only: ${deps.offlineReason}.`);
      else logger.info(`Offline plan only: ${why}.`);
    }
    return undefined;
  });
  if (offline instanceof Error) return done({ outcome: 'error', message: offline.message, error: offline });
  if (offline) return done({ outcome: 'blocked', message: `Plan: a deploy would fail: ${offline.error.message}`, error: offline.error, sqlProblems: offline.sqlProblems });

  if (!deps.vvp) {
    return done({
      outcome: 'planned',
      message: `Plan (offline): the spec is valid; ${why}`,
      withIssues: deps.offlineReason !== undefined,
      planMarkdown: offlineMarkdown(patch, why),
    });
  }

  try {
    return await inGroup(logger, 'Plan: compare with the live deployment', async () => {
      const vvp = deps.vvp as VvpApi;
      const checked = await checkScript(config, { ...deps, vvp });
      if (checked.error) return done({ ...wouldFail(checked.error), sqlProblems: checked.problems });
      // The deploy's own read of the deployment; the plan's reads share one bound, retries included.
      const baseline = await readBaseline({ config, vvp, logger, abortSignal: deps.abortSignal }, clock.now() + READS_BOUND_MS);
      const current = baseline?.deployment;
      const runningJob = baseline?.runningJob;
      const identity = current ? { ...identityOf(current), jobId: runningJobIdOf(current), previousJarUri: jarUriOf(current) } : {};
      // The deploy's own decision: a change it would refuse fails the plan, so a pull request cannot go green on it.
      let change: JsonObject = patch;
      let refusal: Error | undefined;
      if (!current) {
        try {
          change = decideCreate(config).body;
        } catch (error) {
          if (isAbortError(error)) throw error;
          refusal = error as Error;
        }
      } else {
        const decided = decideChange(config, current, runningJob);
        // The body the deploy would send to this deployment, run record included.
        change = sentBody(config, decided.patch);
        const decision = decided.plan;
        if (decision.kind === 'blocked') refusal = new DeploymentFailedError({ kind: 'blocked', deployment: oneLine(current.metadata.name ?? config.deployment), namespace: config.namespace, reason: decision.reason, events: [] });
      }
      if (refusal) {
        const blocked = wouldFail(refusal);
        logger.warn(blocked.message);
        return done({ ...identity, ...blocked });
      }
      const plan = planDeploymentChange({ current, change });
      const left = current ? unfinishedRollbackOf(current) : undefined;
      const leftNote = left
        ? `The deployment carries an unfinished rollback (annotation ${UNFINISHED_ROLLBACK_ANNOTATION}): a deploy first puts back ${describeStrategies(left)} once the rolled-back job runs, before its own change.`
        : undefined;
      if (leftNote) logger.warn(leftNote);
      for (const line of renderPlanLines(plan, { maskValue: maskSecrets })) logger.info(line);
      return done({
        ...identity,
        outcome: 'planned',
        message: `Plan: ${planHeadline(plan)}${plan.restartRequired ? ' The running job would be replaced.' : ''}`,
        planChanges: plan.planChanges,
        restartRequired: plan.restartRequired,
        planMarkdown: `${leftNote ? `${markdownText(leftNote)}\n\n` : ''}${renderPlanMarkdown(plan, { maskValue: maskSecrets })}`,
      });
    });
  } catch (error) {
    if (isAbortError(error) || deps.abortSignal?.aborted) {
      // Like every flow, a cancelled plan ends with a result that says what it left: nothing.
      const cancelled = new CancelledError('the plan', 'nothing was changed (a plan never writes)');
      return done({ outcome: 'cancelled', message: cancelled.message, error: cancelled });
    }
    // A pull-request build without access: the plan stays useful offline.
    const reason = `the live deployment could not be read (${(error as Error).message})`;
    await inGroup(logger, 'Plan: the body a deploy would send', async () => {
      logger.warn(`Offline plan only: ${reason}.`);
      logBody(logger, patch);
    });
    return done({ outcome: 'planned', message: `Plan (offline): the spec is valid; ${reason}`, withIssues: true, planMarkdown: offlineMarkdown(patch, reason) });
  }
}

/** The ending of a plan whose deploy would fail before any write, with `error`'s reason. */
function wouldFail(error: Error): Pick<DeployResult, 'outcome' | 'message' | 'error' | 'planMarkdown'> {
  return { outcome: 'blocked', message: `Plan: a deploy would fail: ${error.message}`, error, planMarkdown: `**Plan:** a deploy would fail: ${markdownText(oneLine(error.message))}\n` };
}

/** The body a deploy would send, for an offline plan's log. */
function logBody(logger: Logger, patch: JsonObject): void {
  logger.info('The PATCH body a deploy would send:');
  for (const line of JSON.stringify(patch, maskedJarUris, 2).split('\n')) logger.info(`  ${line}`);
}

/** The offline plan for the run summary: the body a deploy would send. */
function offlineMarkdown(patch: JsonObject, why: string): string {
  const body = maskSecrets(JSON.stringify(patch, maskedJarUris, 2));
  return `**Plan (offline):** the spec is valid; ${markdownText(oneLine(why))}.\n\nThe PATCH body a deploy would send:\n\n${fencedBlock(body, 'json')}\n`;
}

/** JSON replacer for a body shown in a plan: jarUri query values, sensitive WITH values of a SQL script and the values of sensitive keys masked. */
function maskedJarUris(key: string, value: unknown): unknown {
  if (key === 'jarUri' && typeof value === 'string') return maskJarUriQuery(value);
  if (key === 'sqlScript' && typeof value === 'string') return maskSensitiveOptions(value);
  return isSensitiveConfigKey(key) && value !== null && typeof value !== 'object' ? MASK : value;
}

