/** The upload's run summary: its rows, and the section name people see on the run's page. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { commandFromString } from 'azure-pipelines-task-lib/taskcommand';
import { uploadSummary } from '../../tasks/common/pipeline/pipeline-agent';
import { inAgentEnvironment } from '../support/agent-environment';
import { renderUploadSummary, UPLOAD_SUMMARY_TITLE } from '../../tasks/VvpUploadArtifact/VvpUploadArtifactV1/summary';
import type { UploadReport } from '../../tasks/VvpUploadArtifact/VvpUploadArtifactV1/upload-artifact';

const SHA = 'a'.repeat(64);
const REPORT: UploadReport = {
  file: 'flink-job/target/top-speed-windowing.jar',
  sizeInBytes: 12_897_485,
  sha256Hex: SHA,
  container: 'vvp',
  blobName: 'artifacts/namespaces/default/top-speed-windowing-aaaaaaaaaaaa.jar',
  jarUri: 'wasbs://vvp@vvpstorage.blob.core.windows.net/artifacts/namespaces/default/top-speed-windowing-aaaaaaaaaaaa.jar',
  uploaded: true,
  buildNumber: '20250101.7',
  durationInMs: 4_250,
};

/** The table's rows as label → value. */
function rows(markdown: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of markdown.split('\n')) {
    const m = /^\| (.+?) \| (.*) \|$/.exec(line);
    if (m && m[1] !== '---' && m[1].trim() !== '') out[m[1]] = m[2];
  }
  return out;
}

describe('renderUploadSummary', () => {
  test('one row each for the outcome, file, size, SHA-256, blob, jarUri, build and duration', () => {
    const markdown = renderUploadSummary(REPORT);
    assert.match(markdown, /^### VVP artifact upload: top-speed-windowing\.jar\n/);
    assert.deepEqual(rows(markdown), {
      Outcome: 'Uploaded',
      File: '`flink-job/target/top-speed-windowing.jar`',
      Size: '12.3 MiB (12 897 485 bytes)',
      'SHA-256': `\`${SHA}\``,
      Blob: '`vvp/artifacts/namespaces/default/top-speed-windowing-aaaaaaaaaaaa.jar`',
      jarUri: `\`${REPORT.jarUri}\``,
      Build: '`20250101.7`',
      Duration: '4.3 s',
    });
  });

  test('a skipped upload says the identical content was already there; no Build row without a build number', () => {
    const r = rows(renderUploadSummary({ ...REPORT, uploaded: false, buildNumber: undefined, sizeInBytes: 34 }));
    assert.equal(r.Outcome, 'Skipped: the blob already had identical content');
    assert.equal(r.Size, '34 bytes');
    assert.equal(r.Build, undefined);
  });

  test("a jarUri's query credentials are masked, its commit kept", () => {
    const r = rows(renderUploadSummary({ ...REPORT, jarUri: 'https://files.example.com/vvp/job.jar?commit=abc123&sig=s3cr3t-signature' }));
    assert.equal(r.jarUri, '`https://files.example.com/vvp/job.jar?commit=abc123&sig=***`');
  });

  test('values cannot break the table: pipes and backticks are defused', () => {
    const r = rows(renderUploadSummary({ ...REPORT, file: 'a|b`c.jar', buildNumber: 'x|y' }));
    assert.equal(r.File, "`a\\|b'c.jar`");
    assert.equal(r.Build, '`x\\|y`');
  });
});

describe('run summary section names', () => {
  /** The file uploadSummary hands the agent for `title` (its name is the section's name), and its text. */
  const uploaded = (title: string, markdown = 'text'): { name: string; text: string } => {
    const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'summary-test-'));
    try {
      const { lines } = inAgentEnvironment({ 'Agent.TempDirectory': temp }, () => uploadSummary(title, markdown));
      const commands = lines.map((line) => commandFromString(line)).filter((c) => c.command === 'task.uploadsummary');
      assert.equal(commands.length, 1, lines.join('\n'));
      const file = commands[0]!.message;
      assert.equal(path.dirname(path.dirname(file)), temp, 'in a folder of its own under Agent.TempDirectory');
      return { name: path.basename(file), text: fs.readFileSync(file, 'utf8') };
    } finally {
      fs.rmSync(temp, { recursive: true, force: true });
    }
  };

  test('the upload section is named for people, and every title becomes a file name any agent OS accepts', () => {
    assert.deepEqual(uploaded(UPLOAD_SUMMARY_TITLE, '# Upload'), { name: 'VVP artifact upload.md', text: '# Upload' });
    assert.equal(uploaded('Ververica Platform: suspend a/b?').name, 'Ververica Platform- suspend a-b-.md');
    assert.equal(uploaded('trailing dots...').name, 'trailing dots.md');
    assert.equal(uploaded('<>').name, '-.md');
    assert.equal(uploaded('...').name, 'summary.md');
  });
});
