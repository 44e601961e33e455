import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import JSZip from 'jszip';
import { fromRoot } from './project-paths';

// `npm test` runs `npm run package` first, so dist/ holds the VSIX a user would publish.
const vsixFiles = fs.existsSync(fromRoot('dist')) ? fs.readdirSync(fromRoot('dist')).filter((f) => f.endsWith('.vsix')) : [];

test('packaging leaves exactly one VSIX under 3 MB', () => {
  assert.equal(vsixFiles.length, 1, `dist/ holds ${vsixFiles.join(', ') || 'no vsix'}`);
  const size = fs.statSync(fromRoot('dist', vsixFiles[0])).size;
  assert.ok(size < 3 * 1024 * 1024, `VSIX is ${size} bytes`);
});

test('the VSIX holds only the bundle, task.json and icon per task version, plus the manifest files', async () => {
  const zip = await JSZip.loadAsync(fs.readFileSync(fromRoot('dist', vsixFiles[0])));
  const files = Object.keys(zip.files)
    .filter((f) => !zip.files[f].dir)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const expected = [
    'LICENSE',
    '[Content_Types].xml',
    'extension.vsixmanifest',
    'extension.vsomanifest',
    'images/extension-icon.png',
    'overview.md',
    'tasks/VvpDeploy/VvpDeployV1/icon.png',
    'tasks/VvpDeploy/VvpDeployV1/index.js',
    'tasks/VvpDeploy/VvpDeployV1/task.json',
    'tasks/VvpUploadArtifact/VvpUploadArtifactV1/icon.png',
    'tasks/VvpUploadArtifact/VvpUploadArtifactV1/index.js',
    'tasks/VvpUploadArtifact/VvpUploadArtifactV1/task.json',
  ];
  assert.deepEqual(files, expected);
  for (const f of files) assert.doesNotMatch(f, /node_modules|\.ts$|\.map$|test/);
});

test('the packaged task.json files are the ones in the repository', async () => {
  const zip = await JSZip.loadAsync(fs.readFileSync(fromRoot('dist', vsixFiles[0])));
  for (const folder of ['tasks/VvpDeploy/VvpDeployV1', 'tasks/VvpUploadArtifact/VvpUploadArtifactV1']) {
    const packaged = await zip.file(`${folder}/task.json`)?.async('string');
    assert.deepEqual(JSON.parse(packaged ?? '{}'), JSON.parse(fs.readFileSync(fromRoot(folder, 'task.json'), 'utf8')));
  }
});
