import { formatSize } from '../../common/blob/upload-progress';
import { formatDuration } from '../../common/logging/duration';
import { inlineCode as code, markdownText as md, summaryTable } from '../../common/logging/markdown';
import { maskJarUriQuery } from '../../common/vvp/jar-uri-secrets';
import type { UploadReport } from './upload-artifact';

/** The run summary section's name, as people see it on the run's Extensions tab. */
export const UPLOAD_SUMMARY_TITLE = 'VVP artifact upload';

/**
 * Markdown for the run summary (`##vso[task.uploadsummary]`): one short table of what was put
 * where. Pure; every value is shown as inline code or escaped text, and a jarUri's query
 * credentials (none in the URIs this task makes, but a custom endpoint could add some) are masked.
 */
export function renderUploadSummary(report: UploadReport): string {
  const fileName = report.file.split('/').pop() ?? report.file;
  const rows: [string, string][] = [
    ['Outcome', report.uploaded ? 'Uploaded' : 'Skipped: the blob already had identical content'],
    ['File', code(report.file)],
    ['Size', formatSize(report.sizeInBytes)],
    ['SHA-256', code(report.sha256Hex)],
    ['Blob', code(`${report.container}/${report.blobName}`)],
    ['jarUri', code(maskJarUriQuery(report.jarUri))],
    ...(report.buildNumber ? ([['Build', code(report.buildNumber)]] as [string, string][]) : []),
    ['Duration', formatDuration(report.durationInMs)],
  ];
  const lines = summaryTable(`${UPLOAD_SUMMARY_TITLE}: ${md(fileName)}`, rows);
  return `${lines.join('\n')}\n`;
}
