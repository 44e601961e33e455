/**
 * What the cold-start figure of `npm run bench` rests on, checked without timing anything: a
 * bundled task given no inputs lists every missing input and ends without loading the code it
 * would need only after them (the Azure SDKs, axios, yaml, tool-lib: compiled from the deferred
 * chunk, which needs `zlib` and `vm`; TLS and HTTP).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { bundledTaskDir, type TaskName } from '../rig/bundles';
import { runTask } from '../rig/run-task';

/** Built-ins only the work after the inputs needs: the deferred chunk (zlib, vm) and the network. */
const NOT_AT_START = ['zlib', 'vm', 'https', 'http', 'tls', '_tls_wrap', '_http_client'];

const MISSING: Record<TaskName, string[]> = {
  VvpUploadArtifact: ['azureSubscription', 'storageAccount', 'containerName', 'artifactPath'],
  VvpDeploy: ['azureSubscription', 'keyVaultName', 'vvpUrl', 'deployment', 'jarUri'],
};

describe('bundled tasks given no inputs', () => {
  for (const task of Object.keys(MISSING) as TaskName[]) {
    test(`${task}@1 lists every missing input and loads no SDK, no TLS, no HTTP`, async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'start-up-'));
      const listFile = path.join(dir, 'modules.txt');
      try {
        const run = await runTask({
          taskDir: bundledTaskDir(task),
          inputs: {},
          env: { NODE_OPTIONS: `--require ${JSON.stringify(path.join(__dirname, 'module-list-preload.js'))}`, MODULE_LIST_FILE: listFile },
          timeoutMs: 30_000,
        });
        assert.equal(run.result, 'Failed');
        for (const input of MISSING[task]) assert.match(run.message ?? '', new RegExp(`input '${input}'(: is required| \\(empty\\))`), `${input} is listed`);
        const loaded = new Set(fs.readFileSync(listFile, 'utf8').split('\n').map((m) => m.replace(/^NativeModule /, '')));
        assert.ok(loaded.has('fs'), 'the module list was written');
        assert.deepEqual(NOT_AT_START.filter((m) => loaded.has(m)), []);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
