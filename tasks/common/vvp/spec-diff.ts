import { fencedBlock, markdownText } from '../logging/markdown';
import { neutraliseCommands } from '../logging/neutralise';
import { deepEqual, deepMerge } from './deployment-spec';
import { maskSensitiveOptions } from '../sql/mask-options';
import { diffScripts, unseenScriptChange } from '../sql/script-diff';
import { MASK, maskJarUriQuery } from './jar-uri-secrets';
import { isSensitiveConfigKey, maskSensitiveValues } from './sensitive-keys';
import { formatPath, type PathSegment } from './json-path';
import { desiredStateOf, isJsonObject, upgradeStrategyOf, type Deployment, type JsonObject, type JsonValue } from './resources';
import { isPipelineAnnotation } from './run-annotations';

/**
 * The plan of `action: plan`: what a PATCH (or the POST of a missing deployment) would change,
 * as a diff of `spec` and the user metadata, and what that means for the running job. Pure.
 */

/** One field the change sets: `~` changed, `+` added, `-` removed. */
export interface SpecChange {
  op: '~' | '+' | '-';
  /** e.g. `spec.template.spec.artifact.jarUri`, `metadata.annotations["azure-pipelines/run"]`. */
  path: string;
  /** The value before (absent for `+`); values of sensitive keys are `***`. Query values of URIs are masked when rendered. */
  before?: JsonValue;
  /** The value after (absent for `-`). */
  after?: JsonValue;
}

/** What the change does to the deployment's job. */
export type JobImpact =
  /** The deployment does not exist; the change creates it. */
  | { kind: 'create'; desiredState: string; upgradeStrategy?: string; restoreStrategy?: string; allowNonRestoredState?: boolean }
  /** No template or desired-state change: the job (if any) is left as it is. */
  | { kind: 'none'; observedState?: string; jobId?: string }
  /** A new job replaces the running one. */
  | { kind: 'replace'; jobId?: string; upgradeStrategy?: string; restoreStrategy?: string; allowNonRestoredState?: boolean }
  /** `upgradeStrategy: NONE`: VVP stores the new template but keeps the running job. */
  | { kind: 'keep'; jobId?: string }
  /** A stopped deployment starts a job. */
  | { kind: 'start'; observedState?: string; restoreStrategy?: string; allowNonRestoredState?: boolean }
  /** The desired state becomes SUSPENDED (VVP savepoints and stops the job) or CANCELLED (stops it, no savepoint). */
  | { kind: 'suspend' | 'cancel'; jobId?: string }
  /** The template changes while the deployment stays stopped: stored, no job starts. */
  | { kind: 'store'; desiredState: string };

/** The plan for one deployment. */
export interface DeploymentPlan {
  /** False when there is no deployment yet: the change would create it. */
  exists: boolean;
  /** The changes that count, in document order; VVP's system annotations are left out. */
  changes: SpecChange[];
  /** The `azure-pipelines/*` run annotations the write records too; not counted. */
  pipelineAnnotations: SpecChange[];
  /** `changes.length`: fields set to a new value (0: up to date, nothing would be written). */
  planChanges: number;
  /** True when `spec.template` or `spec.state` changes (creating a deployment adds a template). */
  restartRequired: boolean;
  impact: JobImpact;
}

/** What {@link planDeploymentChange} compares. */
interface DeploymentPlanInput {
  /** The deployment as read; undefined when it does not exist. */
  current?: Deployment;
  /** The body that would be sent: the PATCH (or PUT) body, or the POST body when `current` is undefined. */
  change: JsonObject;
  /**
   * How VVP applies `change` to an existing deployment. `PATCH` (default): merged (`deepMerge`),
   * so nothing is removed. `PUT` (a rollback restoring a deployment as read): `spec`, labels,
   * annotations and displayName are replaced, so fields the change lacks show as `-`.
   */
  method?: 'PATCH' | 'PUT';
}

/** Metadata fields a user changes; the rest (id, name, resourceVersion, timestamps) is VVP's. */
const USER_METADATA = ['displayName', 'labels', 'annotations'] as const;
/** Annotations VVP's controller keeps on every deployment (spec version, transitioning flags). */
const SYSTEM_ANNOTATION_PREFIX = 'com.dataartisans.appmanager.controller.deployment.';

interface RawChange extends SpecChange {
  segments: PathSegment[];
}

/**
 * Computes the plan: the change is merged into the current deployment the way VVP applies a
 * PATCH (`deepMerge`: objects key by key, arrays and scalars replaced) and compared field by
 * field. An added or removed object is listed leaf by leaf, so `planChanges` counts fields.
 */
export function planDeploymentChange(input: DeploymentPlanInput): DeploymentPlan {
  const { current, change } = input;
  const merges = current !== undefined && input.method !== 'PUT';
  const changeSpec = isJsonObject(change.spec) ? change.spec : {};
  const changeMetadata = isJsonObject(change.metadata) ? change.metadata : {};
  const currentSpec: JsonObject | undefined = current ? current.spec : undefined;
  const mergedSpec = merges ? (deepMerge(currentSpec, changeSpec) as JsonObject) : changeSpec;

  const raw: RawChange[] = diffValues(currentSpec, mergedSpec, ['spec']);
  const currentMetadata = (current?.metadata ?? {}) as JsonObject;
  for (const key of USER_METADATA) {
    // A PATCH leaves a field it does not name alone; a PUT replaces it.
    if (changeMetadata[key] === undefined && merges) continue;
    const before = currentMetadata[key];
    const after = merges ? deepMerge(before, changeMetadata[key]) : changeMetadata[key];
    raw.push(...diffValues(before, after, ['metadata', key]));
  }

  const changes: SpecChange[] = [];
  const pipelineAnnotations: SpecChange[] = [];
  let restartRequired = false;
  for (const entry of raw) {
    const [root, field, key] = entry.segments;
    const annotationKey = root === 'metadata' && field === 'annotations' && typeof key === 'string' ? key : undefined;
    if (annotationKey?.startsWith(SYSTEM_ANNOTATION_PREFIX)) continue;
    const { segments, ...raw } = entry;
    // A credential in Flink's configuration (or any sensitive key) never reaches a plan: its key shows, its value does not.
    const sensitive = segments.some((segment) => typeof segment === 'string' && isSensitiveConfigKey(segment));
    const visible: SpecChange = { op: raw.op, path: raw.path };
    if (raw.before !== undefined) visible.before = sensitive ? MASK : maskSensitiveValues(raw.before);
    if (raw.after !== undefined) visible.after = sensitive ? MASK : maskSensitiveValues(raw.after);
    if (annotationKey !== undefined && isPipelineAnnotation(annotationKey)) {
      pipelineAnnotations.push(visible);
      continue;
    }
    changes.push(visible);
    if (root === 'spec' && (field === 'template' || field === 'state')) restartRequired = true;
  }

  return {
    exists: current !== undefined,
    changes,
    pipelineAnnotations,
    planChanges: changes.length,
    restartRequired,
    impact: jobImpact(current, mergedSpec, raw),
  };
}

/**
 * The changes from `before` to `after` under `path`: objects compared key by key (keys of
 * `before` first, in their order, then new keys), anything else as a whole value (VVP replaces
 * arrays whole, so a changed list is one `~`).
 */
function diffValues(before: JsonValue | undefined, after: JsonValue | undefined, path: PathSegment[]): RawChange[] {
  if (before === undefined && after === undefined) return [];
  if (before === undefined) return leaves(after as JsonValue, path).map(([segments, value]) => entry('+', segments, undefined, value));
  if (after === undefined) return leaves(before, path).map(([segments, value]) => entry('-', segments, value, undefined));
  if (isJsonObject(before) && isJsonObject(after)) {
    const keys = [...Object.keys(before), ...Object.keys(after).filter((k) => !Object.prototype.hasOwnProperty.call(before, k))];
    return keys.flatMap((k) => diffValues(before[k], after[k], [...path, k]));
  }
  return deepEqual(before, after) ? [] : [entry('~', path, before, after)];
}

/** The leaves of a value (a non-empty object is expanded; anything else is one leaf). */
function leaves(value: JsonValue, path: PathSegment[]): [PathSegment[], JsonValue][] {
  if (isJsonObject(value) && Object.keys(value).length > 0) {
    return Object.entries(value).flatMap(([k, v]) => leaves(v, [...path, k]));
  }
  return [[path, value]];
}

function entry(op: SpecChange['op'], segments: PathSegment[], before: JsonValue | undefined, after: JsonValue | undefined): RawChange {
  const change: RawChange = { op, path: formatPath(segments), segments };
  if (before !== undefined) change.before = before;
  if (after !== undefined) change.after = after;
  return change;
}

const ACTIVE_STATES = new Set(['RUNNING', 'TRANSITIONING']);

function jobImpact(current: Deployment | undefined, mergedSpec: JsonObject, changes: RawChange[]): JobImpact {
  const strategies = strategiesOf(mergedSpec);
  if (!current) {
    return { kind: 'create', desiredState: desiredStateOf(mergedSpec) ?? 'RUNNING', ...strategies };
  }
  const touches = (field: string): boolean => changes.some((c) => c.segments[0] === 'spec' && c.segments[1] === field);
  const observedState = current.status?.state;
  const jobId = current.status?.running?.jobId;
  const desiredBefore = desiredStateOf(current.spec) ?? 'RUNNING';
  const desiredAfter = desiredStateOf(mergedSpec) ?? desiredBefore;
  const templateChanges = touches('template');

  if (!templateChanges && desiredAfter === desiredBefore) return omitUndefined({ kind: 'none', observedState, jobId });
  if (desiredAfter !== desiredBefore && (desiredAfter === 'SUSPENDED' || desiredAfter === 'CANCELLED')) {
    return omitUndefined({ kind: desiredAfter === 'SUSPENDED' ? 'suspend' : 'cancel', jobId });
  }
  if (desiredAfter !== 'RUNNING') return { kind: 'store', desiredState: desiredAfter };
  const running = desiredBefore === 'RUNNING' && observedState !== undefined && ACTIVE_STATES.has(observedState);
  if (!running) {
    const { restoreStrategy, allowNonRestoredState } = strategies;
    return omitUndefined({ kind: 'start', observedState, restoreStrategy, allowNonRestoredState });
  }
  if (strategies.upgradeStrategy === 'NONE') return omitUndefined({ kind: 'keep', jobId });
  return omitUndefined({ kind: 'replace', jobId, ...strategies });
}

function strategiesOf(spec: JsonObject): { upgradeStrategy?: string; restoreStrategy?: string; allowNonRestoredState?: boolean } {
  const restore = isJsonObject(spec.restoreStrategy) ? spec.restoreStrategy : {};
  return omitUndefined({
    upgradeStrategy: upgradeStrategyOf(spec),
    restoreStrategy: typeof restore.kind === 'string' ? restore.kind.toUpperCase() : undefined,
    allowNonRestoredState: typeof restore.allowNonRestoredState === 'boolean' ? restore.allowNonRestoredState : undefined,
  });
}

function omitUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

const UPGRADE_MEANING: Record<string, string> = {
  STATEFUL: 'VVP takes a savepoint of the running job before stopping it',
  STATELESS: 'VVP stops the running job without a savepoint',
};
const RESTORE_MEANING: Record<string, string> = {
  LATEST_STATE: 'from the latest savepoint or retained checkpoint',
  LATEST_SAVEPOINT: 'from the latest savepoint',
  NONE: 'with empty state',
};

function restorePhrase(restoreStrategy: string | undefined, allowNonRestoredState: boolean | undefined): string {
  if (!restoreStrategy) return 'restore strategy not set (the namespace defaults apply)';
  const meaning = RESTORE_MEANING[restoreStrategy];
  const nonRestored = allowNonRestoredState ? ', allowing non-restored state' : '';
  return `restore strategy ${restoreStrategy}${meaning ? `: the new job starts ${meaning}` : ''}${nonRestored}`;
}

function jobName(jobId: string | undefined): string {
  return jobId ? `the running job ${jobId}` : 'the running job';
}

/**
 * One sentence on what the change does to the job, e.g. `Replaces the running job 8f0b…:
 * upgrade strategy STATEFUL (VVP takes a savepoint …); restore strategy LATEST_STATE: …`.
 */
function describeImpact(impact: JobImpact): string {
  switch (impact.kind) {
    case 'create':
      return impact.desiredState === 'RUNNING'
        ? `Creates the deployment (it does not exist yet) and starts its first job (upgrade strategy ${impact.upgradeStrategy ?? 'not set'}, ` +
            `restore strategy ${impact.restoreStrategy ?? 'not set'}${impact.allowNonRestoredState ? ', allowing non-restored state' : ''}).`
        : `Creates the deployment (it does not exist yet) in desired state ${impact.desiredState}; no job starts.`;
    case 'none':
      return impact.observedState === 'RUNNING'
        ? `Does not replace ${jobName(impact.jobId)}: neither the template nor the desired state changes.`
        : `Starts no job: neither the template nor the desired state changes (the deployment is ${impact.observedState ?? 'in an unknown state'}).`;
    case 'replace': {
      const upgrade = impact.upgradeStrategy
        ? `upgrade strategy ${impact.upgradeStrategy}${UPGRADE_MEANING[impact.upgradeStrategy] ? ` (${UPGRADE_MEANING[impact.upgradeStrategy]})` : ''}`
        : 'upgrade strategy not set (the namespace defaults apply)';
      return `Replaces ${jobName(impact.jobId)} with a new job: ${upgrade}; ${restorePhrase(impact.restoreStrategy, impact.allowNonRestoredState)}.`;
    }
    case 'keep':
      return `Stores the new template but keeps ${jobName(impact.jobId)}: the upgrade strategy is NONE, so no new job starts.`;
    case 'start':
      return `Starts a job (the deployment is ${impact.observedState ?? 'not running'}); ${restorePhrase(impact.restoreStrategy, impact.allowNonRestoredState)}.`;
    case 'suspend':
      return `Suspends ${impact.jobId ? `job ${impact.jobId}` : 'the deployment'}: VVP takes a savepoint and stops the job.`;
    case 'cancel':
      return `Cancels ${impact.jobId ? `job ${impact.jobId}` : 'the deployment'}: VVP stops the job without a savepoint.`;
    case 'store':
      return `Stores the new template; no job runs while the desired state is ${impact.desiredState}.`;
    default: {
      const unexpected: never = impact;
      return String(unexpected);
    }
  }
}

/** How values are shown. */
interface RenderOptions {
  /**
   * Applied to every rendered value, e.g. `maskSecrets` from `logging/secret-mask`. Query values
   * of URIs (other than `commit`) are always masked, whatever this does.
   */
  maskValue?: (text: string) => string;
  /** Longer values are shortened in the middle. Default 200 characters. */
  maxValueLength?: number;
  /**
   * Show URI query values as they are: only for the run annotations, whose values this task
   * makes from the agent's own variables (`…/_build/results?buildId=4242`); never a credential.
   */
  showUriQueries?: boolean;
}

/** The run annotations: their URIs shown whole (see RenderOptions.showUriQueries). */
const RUN_ANNOTATION_VALUES = { showUriQueries: true } as const;

const DEFAULT_MAX_VALUE_LENGTH = 200;
/** `scheme://…?…`: a URI with a query, whose values may be a SAS. */
const URI_WITH_QUERY = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s]*\?/;
/** A string shown bare would read as something else (a number, a boolean, null, a blank, `a → b`). */
// eslint-disable-next-line no-control-regex -- a value with control characters is shown JSON-quoted
const NEEDS_QUOTES = /^$|^\s|\s$|[\u0000-\u001f\u007f"]| → |^(true|false|null|-?\d+(\.\d+)?([eE][+-]?\d+)?)$|^[[{]/;

/**
 * A value shown compactly on one line: strings bare (JSON-quoted when they would read as
 * something else or hold control characters), objects and lists as JSON; URI query values
 * masked, then `maskValue`, then shortened in the middle with `…`.
 */
function formatValue(value: JsonValue | undefined, options: RenderOptions = {}): string {
  if (value === undefined) return '(none)';
  const masked = options.showUriQueries ? value : maskUris(value);
  let text = typeof masked === 'string' ? masked : JSON.stringify(masked);
  if (options.maskValue) text = options.maskValue(text);
  if (typeof masked === 'string' && NEEDS_QUOTES.test(text)) text = JSON.stringify(text);
  return shorten(text, options.maxValueLength ?? DEFAULT_MAX_VALUE_LENGTH);
}

function maskUris(value: JsonValue): JsonValue {
  if (typeof value === 'string') return URI_WITH_QUERY.test(value) ? maskJarUriQuery(value) : value;
  if (Array.isArray(value)) return value.map(maskUris);
  if (isJsonObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskUris(v)]));
  return value;
}

function shorten(text: string, max: number): string {
  if (text.length <= max) return text;
  const tail = Math.min(40, Math.floor(max / 3));
  return `${text.slice(0, max - tail - 1)}…${text.slice(text.length - tail)}`;
}

/**
 * One change as lines: `~ path: before → after`, `+ path: after`, `- path: before`. A SQL
 * script (`….sqlScript`) is shown as a line diff under its path, with the values of sensitive
 * `WITH` options masked: one long string would hide what changed.
 */
function formatChange(change: SpecChange, options: RenderOptions = {}): string[] {
  if (change.path.endsWith('.sqlScript') && (typeof change.before === 'string' || typeof change.after === 'string')) {
    const text = (value: JsonValue | undefined): string => (typeof value === 'string' ? maskSensitiveOptions(value) : '');
    const diff = diffScripts(text(change.before), text(change.after)).map((line) => `    ${options.maskValue ? options.maskValue(line) : line}`);
    // A change no line shows (line endings, a masked credential) still says what it is.
    if (diff.length === 0) diff.push(`    ${unseenScriptChange(typeof change.before === 'string' ? change.before : '', typeof change.after === 'string' ? change.after : '')}`);
    return [`${change.op} ${change.path}: (line diff)`, ...diff];
  }
  switch (change.op) {
    case '~':
      return [`~ ${change.path}: ${formatValue(change.before, options)} → ${formatValue(change.after, options)}`];
    case '+':
      return [`+ ${change.path}: ${formatValue(change.after, options)}`];
    case '-':
      return [`- ${change.path}: ${formatValue(change.before, options)}`];
  }
}

/** The headline: `3 fields would change.`, the create sentence, or the up-to-date sentence. */
export function planHeadline(plan: DeploymentPlan): string {
  const fields = `${plan.planChanges} field${plan.planChanges === 1 ? '' : 's'}`;
  if (!plan.exists) return `The deployment does not exist; creating it would set ${fields}.`;
  if (plan.planChanges === 0) return 'No changes: the deployment is up to date; nothing would be written.';
  return `${fields} would change.`;
}

/**
 * The plan as log lines: the headline, one line per change (indented), the run annotations
 * the write records (when something is written), and the sentence on the job. Logging
 * commands inside values are neutralised.
 */
export function renderPlanLines(plan: DeploymentPlan, options: RenderOptions = {}): string[] {
  const lines = [planHeadline(plan)];
  if (plan.planChanges === 0) return lines.map(neutraliseCommands);
  for (const change of plan.changes) lines.push(...formatChange(change, options).map((line) => `  ${line}`));
  if (plan.pipelineAnnotations.length > 0) {
    lines.push('  recorded with the change (run annotations, not counted):');
    for (const change of plan.pipelineAnnotations) lines.push(...formatChange(change, { ...options, ...RUN_ANNOTATION_VALUES }).map((line) => `    ${line}`));
  }
  lines.push(describeImpact(plan.impact));
  return lines.map(neutraliseCommands);
}

/**
 * The plan as markdown for the run summary: the headline, a ```diff block of the changes
 * (run annotations after them), and the sentence on the job. The fence is longer than any
 * backtick run inside, so no value can close it.
 */
export function renderPlanMarkdown(plan: DeploymentPlan, options: RenderOptions = {}): string {
  const headline = `**Plan:** ${planHeadline(plan)}`;
  if (plan.planChanges === 0) return `${headline}\n`;
  const body = [
    ...plan.changes.flatMap((c) => formatChange(c, options)),
    ...(plan.pipelineAnnotations.length > 0 ? ['# recorded with the change (run annotations, not counted)'] : []),
    ...plan.pipelineAnnotations.flatMap((c) => formatChange(c, { ...options, ...RUN_ANNOTATION_VALUES })),
  ].join('\n');
  return `${headline}\n\n${fencedBlock(body, 'diff')}\n\n${markdownText(describeImpact(plan.impact))}\n`;
}
