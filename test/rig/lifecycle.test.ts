import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { isProcessAlive } from './child-processes';
import { startRig } from './rig';

async function waitUntilGone(pids: number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let alive = pids.filter(isProcessAlive);
  while (alive.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    alive = pids.filter(isProcessAlive);
  }
  return alive;
}

describe('rig lifecycle', () => {
  it('starts the services process in well under a few seconds and stop() leaves no child running', async (t) => {
    const started = Date.now();
    const rig = await startRig();
    t.diagnostic(`startRig without Azurite: ${Date.now() - started} ms`);
    try {
      const pids = rig.pids();
      assert.equal(pids.length, 1);
      assert.ok(isProcessAlive(pids[0]!));
      await rig.stop();
      assert.deepEqual(await waitUntilGone(pids, 2000), []);
    } finally {
      await rig.stop();
    }
  });

  it('takes the services and Azurite down when the test process is killed without cleanup', async () => {
    const parent = spawn(process.execPath, [path.join(__dirname, 'fixtures', 'orphan-parent.js'), '--azurite'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        let err = '';
        parent.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          if (out.includes('\n')) resolve(out.slice(0, out.indexOf('\n')));
        });
        parent.stderr.on('data', (c: Buffer) => (err += c.toString()));
        parent.once('exit', (code) => reject(new Error(`orphan parent exited early (${code}): ${err}`)));
      });
      const { pids } = JSON.parse(line) as { pids: number[] };
      assert.equal(pids.length, 2, 'services and Azurite');
      assert.ok(pids.every(isProcessAlive));
      parent.kill('SIGKILL');
      assert.deepEqual(await waitUntilGone(pids, 5000), [], 'children must notice their parent is gone');
    } finally {
      parent.kill('SIGKILL');
    }
  });
});
