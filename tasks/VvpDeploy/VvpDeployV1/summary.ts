import { jarUriSecrets, maskJarUriQuery } from '../../common/vvp/jar-uri-secrets';
import { fencedBlock, inlineCode as code, markdownText as md, summaryTable } from '../../common/logging/markdown';
import { neutraliseCommands } from '../../common/logging/neutralise';
import { formatDuration, oneLine, renderRestoredState } from '../../common/vvp/errors';
import type { DeployOutcome, DeployResult } from './deploy-result';

/**
 * Link to a deployment in the VVP web UI. The route `/app/#/namespaces/<ns>/deployments/<id>`
 * is the one Ververica's own jupyter-vvp builds (plus `/detail/overview`); the UI routes are not
 * part of the documented API.
 */
function deploymentUiUrl(vvpUrl: string, namespace: string, deploymentId: string): string {
  return `${vvpUrl.replace(/\/+$/, '')}/app/#/namespaces/${linkPart(namespace)}/deployments/${linkPart(deploymentId)}`;
}

/** A URL path segment that also cannot end a markdown link: `(`, `)` and friends percent-encoded too. */
function linkPart(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

const OUTCOME_TEXT: Record<DeployOutcome, string> = {
  upToDate: 'Already up to date (no change sent)',
  succeeded: 'Succeeded: the new job runs',
  applied: 'Change applied (not waiting for the job)',
  planned: 'Planned (nothing was written)',
  failed: 'Failed',
  timedOut: 'Timed out',
  blocked: 'Refused before any write (nothing was changed; the error says why)',
  cancelled: 'Cancelled',
  error: 'Failed',
};

/** What a lifecycle action that succeeded did; its rows say with which job and savepoint. */
const ACTION_DONE: Record<string, string> = {
  suspend: 'Suspended (VVP took a savepoint and stopped the job)',
  resume: 'Resumed: a new job runs',
  cancel: 'Cancelled (the job stopped without a savepoint)',
  savepoint: 'Savepoint COMPLETED; the job keeps running',
  delete: 'Deleted',
};

/**
 * Markdown for the run summary (`##vso[task.uploadsummary]`). Pure; server text is escaped.
 * `vvpUrl` is where people open VVP ('' behind a port-forward that ended with the step: no link).
 */
export function renderSummary(report: DeployResult, vvpUrl: string): string {
  const outcome = report.outcome;
  const name = report.deploymentName ?? report.deployment;
  // No link without a VVP address people can open (behind a port-forward that ended with the step).
  const deploymentCell = report.deploymentId
    ? vvpUrl
      ? `[${md(name)}](${deploymentUiUrl(vvpUrl, report.namespace, report.deploymentId)}) (id ${code(report.deploymentId)})`
      : `${md(name)} (id ${code(report.deploymentId)})`
    : md(name);
  const duration = formatDuration(report.finishedAtMs - report.startedAtMs);
  const lifecycle = report.action !== undefined && report.action !== 'deploy' && report.action !== 'plan';
  // A lifecycle action's own rows name its job and savepoint: the outcome says what happened, once.
  const outcomeText = lifecycle && !report.error ? (outcome === 'succeeded' ? (ACTION_DONE[report.action ?? ''] ?? md(report.message)) : md(report.message)) : OUTCOME_TEXT[outcome];
  const rows: [string, string][] = [
    ['Outcome', `${outcomeText}${report.rolledBack ? ' — rolled back: the previous deployment runs again' : ''}`],
    ['Deployment', deploymentCell],
    ['Namespace', code(report.namespace)],
    ...(lifecycle
      ? []
      : report.sqlScriptSha256 !== undefined
        ? ([['New SQL script', `sha256 ${code(report.sqlScriptSha256)}`]] as [string, string][])
        : ([
          ['Previous jarUri', report.previousJarUri ? code(maskJarUriQuery(report.previousJarUri)) : report.created ? '(created by this step)' : '–'],
          ['New jarUri', code(maskJarUriQuery(report.targetJarUri))],
        ] as [string, string][])),
    ...jarUriNow(report, lifecycle),
    ['Job', report.jobId ? code(report.jobId) : '–'],
    ['State', report.state ? code(report.state) : '–'],
    ['Duration', duration || '–'],
  ];
  if (report.build) rows.push(['Build', code(report.build)]);
  if (report.changedFields && report.changedFields.length > 0) rows.push(['Changed fields', changedFields(report.changedFields)]);
  const runUri = report.annotations?.['azure-pipelines/runuri'];
  // A rollback restores the annotations from before the step: the run is no longer recorded there.
  if (runUri && report.rollback?.outcome !== 'succeeded') rows.push(['Recorded on the deployment', `\`azure-pipelines/runuri\` → [this run](${runUri.replace(/[()\s]/g, encodeURIComponent)}), run ${code(report.annotations?.['azure-pipelines/run'] ?? '?')}`]);
  const savepointAt = report.savepoint?.location;
  if (report.savepoint) rows.push([lifecycle ? 'Savepoint' : 'Savepoint of the previous job', `${code(report.savepoint.id)}${savepointAt ? ` at ${code(savepointAt)}` : ''}`]);
  // A location shown in the savepoint row is referred to, not repeated.
  const state = (location: string): string => (location === savepointAt ? (lifecycle ? 'the savepoint above' : 'the savepoint of the previous job') : code(location));
  const startsJob = report.action === undefined || report.action === 'deploy' || report.action === 'resume';
  // After a rollback jobId and restoredFrom describe the rolled-back job: its own row tells them.
  const rolledBack = report.rollback?.outcome === 'succeeded';
  if (startsJob && !rolledBack && report.jobId && (report.outcome === 'succeeded' || report.restoredFrom)) rows.push(['New job restored', report.restoredFrom ? state(report.restoredFrom) : 'no state']);
  if (report.healthRestarts !== undefined) rows.push(['Health check', `passed (${restarts(report.healthRestarts)})`]);
  if (report.healthFailed) rows.push(['Health check', `failed (${report.healthFailed.restarts === undefined ? 'restarts unknown' : restarts(report.healthFailed.restarts)}): see the message below`]);
  if (report.rollback && rolledBack) {
    const from = report.rollback.restoredFrom !== undefined && report.rollback.restoredFrom === savepointAt ? `started from ${state(savepointAt)}` : md(renderRestoredState(report.rollback));
    rows.push(['Rolled-back job', `${report.rollback.jobId ? code(report.rollback.jobId) : '–'}, ${from}`]);
  }
  const title = lifecycle ? `Ververica Platform: ${report.action} ${md(name)}` : report.action === 'plan' ? `Ververica Platform plan for ${md(name)}` : `Ververica Platform deployment ${md(name)}`;
  const lines = summaryTable(title, rows);
  if (report.planMarkdown) lines.push('', report.planMarkdown.trimEnd());
  if (report.error && report.message) {
    lines.push('', fencedBlock(report.message, 'text'));
  }
  return `${lines.join('\n')}\n`;
}

/** How many paths the summary lists of a spec-file change before "and N more". */
const MAX_CHANGED_FIELDS = 10;

function changedFields(paths: readonly string[]): string {
  const shown = paths.slice(0, MAX_CHANGED_FIELDS).map(code).join(', ');
  return paths.length > MAX_CHANGED_FIELDS ? `${shown} and ${paths.length - MAX_CHANGED_FIELDS} more` : shown;
}

function restarts(count: number): string {
  return `${count} restart${count === 1 ? '' : 's'}`;
}

/**
 * The "jarUri now in VVP" row of a deploy: left out when it is the new jarUri (the row above),
 * named when it is the previous one; for a lifecycle action, the value.
 */
function jarUriNow(report: DeployResult, lifecycle: boolean): [string, string][] {
  const now = report.jarUri;
  // A SQL deployment has no jarUri: the rows above and the outcome say what runs.
  if (report.sqlScriptSha256 !== undefined && !now) return [];
  if (!now) return [['jarUri now in VVP', '–']];
  if (lifecycle) return [['jarUri now in VVP', code(maskJarUriQuery(now))]];
  if (now === report.targetJarUri) return [];
  if (now === report.previousJarUri) return [['jarUri now in VVP', 'the previous jarUri']];
  return [['jarUri now in VVP', code(maskJarUriQuery(now))]];
}

/** One output variable: its value, and whether it carries a credential (then it is set as a secret variable). */
export interface OutputValue {
  value: string;
  secret: boolean;
}

/**
 * The task's output variables (names are public API) from a result; empty strings when unknown.
 * A jarUri with a credential in its query (a SAS) is set as a secret variable.
 */
export function deployOutputs(report: DeployResult): Record<DeployOutputName, OutputValue> {
  // Values that came from VVP go to later steps (often a script that echoes them): one line, no logging command.
  const safe = (value: string | undefined): string => (value === undefined ? '' : neutraliseCommands(oneLine(value)));
  const plain = (value: string | undefined): OutputValue => ({ value: safe(value), secret: false });
  const jar = (value: string | undefined): OutputValue => ({ value: safe(value), secret: value !== undefined && jarUriSecrets(value).length > 0 });
  return {
    deploymentId: plain(report.deploymentId),
    jobId: plain(report.jobId),
    state: plain(report.state),
    jarUri: jar(report.jarUri),
    previousJarUri: jar(report.previousJarUri),
    rolledBack: plain(report.rolledBack ? 'true' : 'false'),
    savepointId: plain(report.savepoint?.id),
    savepointLocation: plain(report.savepoint?.location),
    restoredFrom: plain(report.restoredFrom),
    restartRequired: plain(report.restartRequired === undefined ? '' : String(report.restartRequired)),
    planChanges: plain(report.planChanges === undefined ? '' : String(report.planChanges)),
    sqlScriptSha256: plain(report.sqlScriptSha256),
  };
}

/** The output variables of VvpDeploy@1 (public API: task.json `outputVariables`). */
type DeployOutputName =
  | 'deploymentId'
  | 'jobId'
  | 'state'
  | 'jarUri'
  | 'previousJarUri'
  | 'rolledBack'
  | 'savepointId'
  | 'savepointLocation'
  | 'restoredFrom'
  | 'restartRequired'
  | 'planChanges'
  | 'sqlScriptSha256';
