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
export function deploymentUiUrl(vvpUrl: string, namespace: string, deploymentId: string): string {
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
  blocked: 'Not changed (the change could not start a new job)',
  cancelled: 'Cancelled',
  error: 'Failed',
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
  const outcomeText = lifecycle && !report.error ? md(report.message) : OUTCOME_TEXT[outcome];
  const rows: [string, string][] = [
    ['Outcome', `${outcomeText}${report.rolledBack ? ' — rolled back: the previous deployment runs again' : ''}`],
    ['Deployment', deploymentCell],
    ['Namespace', code(report.namespace)],
    ...(lifecycle
      ? []
      : ([
          ['Previous jarUri', report.previousJarUri ? code(maskJarUriQuery(report.previousJarUri)) : report.created ? '(created by this step)' : '–'],
          ['New jarUri', code(maskJarUriQuery(report.targetJarUri))],
        ] as [string, string][])),
    ['jarUri now in VVP', report.jarUri ? code(maskJarUriQuery(report.jarUri)) : '–'],
    ['Job', report.jobId ? code(report.jobId) : '–'],
    ['State', report.state ? code(report.state) : '–'],
    ['Duration', duration || '–'],
  ];
  const runUri = report.annotations?.['azure-pipelines/runuri'];
  // A rollback restores the annotations from before the step: the run is no longer recorded there.
  if (runUri && report.rollback?.outcome !== 'succeeded') rows.push(['Recorded on the deployment', `\`azure-pipelines/runuri\` → [this run](${runUri.replace(/[()\s]/g, encodeURIComponent)}), run ${code(report.annotations?.['azure-pipelines/run'] ?? '?')}`]);
  if (report.savepoint) rows.push([lifecycle ? 'Savepoint' : 'Savepoint of the previous job', `${code(report.savepoint.id)}${report.savepoint.location ? ` at ${code(report.savepoint.location)}` : ''}`]);
  const startsJob = report.action === undefined || report.action === 'deploy' || report.action === 'resume';
  if (startsJob && report.jobId && (report.outcome === 'succeeded' || report.restoredFrom)) rows.push(['New job restored', report.restoredFrom ? code(report.restoredFrom) : 'no state']);
  if (report.healthRestarts !== undefined) rows.push(['Health check', `passed (${report.healthRestarts} restart${report.healthRestarts === 1 ? '' : 's'})`]);
  if (report.rollback?.outcome === 'succeeded') rows.push(['Rolled-back job', `${report.rollback.jobId ? code(report.rollback.jobId) : '–'}, ${md(renderRestoredState(report.rollback))}`]);
  const title = lifecycle ? `Ververica Platform: ${report.action} ${md(name)}` : report.action === 'plan' ? `Ververica Platform plan for ${md(name)}` : `Ververica Platform deployment ${md(name)}`;
  const lines = summaryTable(title, rows);
  if (report.planMarkdown) lines.push('', report.planMarkdown.trimEnd());
  if (report.error && report.message) {
    lines.push('', fencedBlock(report.message, 'text'));
  }
  return `${lines.join('\n')}\n`;
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
  | 'planChanges';
