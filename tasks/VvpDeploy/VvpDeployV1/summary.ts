import { formatDuration, oneLine } from '../../common/vvp/errors';
import type { DeployOutcome, DeployReport } from './deploy';

/**
 * Link to a deployment in the VVP web UI. The route `/app/#/namespaces/<ns>/deployments/<id>`
 * is the one Ververica's own jupyter-vvp builds (plus `/detail/overview`); the UI routes are not
 * part of the documented API.
 */
export function deploymentUiUrl(vvpUrl: string, namespace: string, deploymentId: string): string {
  return `${vvpUrl.replace(/\/+$/, '')}/app/#/namespaces/${encodeURIComponent(namespace)}/deployments/${encodeURIComponent(deploymentId)}`;
}

const OUTCOME_TEXT: Record<DeployOutcome, string> = {
  upToDate: 'Already up to date (no change sent)',
  succeeded: 'Succeeded: the new job runs',
  applied: 'Change applied (not waiting for the job)',
  failed: 'Failed',
  timedOut: 'Timed out',
  blocked: 'Not changed (the change could not start a new job)',
  cancelled: 'Cancelled',
  error: 'Failed',
};

/** Markdown for the run summary (`##vso[task.uploadsummary]`). Pure; server text is escaped. */
export function renderSummary(report: DeployReport): string {
  const outcome = report.outcome ?? 'error';
  const name = report.deploymentName ?? report.deployment;
  // No link without a VVP address people can open (behind a port-forward that ended with the step).
  const deploymentCell = report.deploymentId
    ? report.vvpUrl
      ? `[${md(name)}](${deploymentUiUrl(report.vvpUrl, report.namespace, report.deploymentId)}) (id ${code(report.deploymentId)})`
      : `${md(name)} (id ${code(report.deploymentId)})`
    : md(name);
  const duration = report.finishedAtMs !== undefined ? formatDuration(report.finishedAtMs - report.startedAtMs) : '';
  const rows: [string, string][] = [
    ['Outcome', `${OUTCOME_TEXT[outcome]}${report.rolledBack ? ' — rolled back to the previous template' : ''}`],
    ['Deployment', deploymentCell],
    ['Namespace', code(report.namespace)],
    ['Previous jarUri', report.previousJarUri ? code(report.previousJarUri) : report.created ? '(created by this step)' : '–'],
    ['New jarUri', code(report.targetJarUri)],
    ['jarUri now in VVP', report.jarUri ? code(report.jarUri) : '–'],
    ['Job', report.jobId ? code(report.jobId) : '–'],
    ['State', report.state ? code(report.state) : '–'],
    ['Duration', duration || '–'],
  ];
  const lines = [`### Ververica Platform deployment ${md(name)}`, '', '| | |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${v} |`)];
  if (report.message && outcome !== 'succeeded' && outcome !== 'upToDate') {
    lines.push('', '```text', fence(report.message), '```');
  }
  return `${lines.join('\n')}\n`;
}

/** Inline code that survives backticks and pipes in the value. */
function code(value: string): string {
  return `\`${oneLine(value).replace(/`/g, "'").replace(/\|/g, '\\|')}\``;
}

/** Plain markdown text with the syntax characters escaped. */
function md(value: string): string {
  return oneLine(value).replace(/([\\`*_{}[\]()#+!|<>])/g, '\\$1');
}

/** Text for a fenced block: no line may close the fence. */
function fence(text: string): string {
  return text.replace(/```/g, "'''");
}

/** The task's output variables (names are public API) from a report; empty strings when unknown. */
export function deployOutputs(report: DeployReport): Record<'deploymentId' | 'jobId' | 'state' | 'jarUri' | 'previousJarUri' | 'rolledBack', string> {
  return {
    deploymentId: report.deploymentId ?? '',
    jobId: report.jobId ?? '',
    state: report.state ?? '',
    jarUri: report.jarUri ?? '',
    previousJarUri: report.previousJarUri ?? '',
    rolledBack: report.rolledBack ? 'true' : 'false',
  };
}
