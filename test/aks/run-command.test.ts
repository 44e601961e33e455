import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { runCommand } from '../../tasks/common/kubectl/run-command';
import { isProcessAlive } from '../rig/child-processes';

/** A Node child that prints its pid, then `text` on stderr, then waits forever. */
const stuck = (text: string): string[] => ['-e', `console.log(process.pid); console.error(${JSON.stringify(text)}); setInterval(() => {}, 1000);`];

async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 100 && isProcessAlive(pid); i++) await new Promise((r) => setTimeout(r, 50));
  return !isProcessAlive(pid);
}

describe('runCommand', () => {
  it('collects the output and exit code of a command that finishes', async () => {
    const r = await runCommand(process.execPath, ['-e', 'console.log("out"); console.error("err"); process.exit(3)']);
    assert.deepEqual(r, { exitCode: 3, stdout: 'out\n', stderr: 'err\n', timedOut: false });
  });

  it('kills a command that outlives its bound and returns what it printed', async () => {
    const r = await runCommand(process.execPath, stuck('still thinking'), { timeoutInMs: 1500 });
    assert.equal(r.timedOut, true);
    assert.equal(r.exitCode, null);
    assert.match(r.stderr, /still thinking/);
    assert.equal(await gone(Number(r.stdout.trim())), true, 'the command was killed');
  });

  it('kills the command and rejects with the reason when cancelled', async () => {
    const pidFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'run-command-')), 'pid');
    try {
      const controller = new AbortController();
      const pending = runCommand(process.execPath, ['-e', `require('fs').writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); setInterval(() => {}, 1000);`], {
        abortSignal: controller.signal,
      });
      for (let i = 0; i < 200 && !fs.existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 25));
      controller.abort(new Error('cancelled by the agent'));
      await assert.rejects(pending, /cancelled by the agent/);
      assert.equal(await gone(Number(fs.readFileSync(pidFile, 'utf8'))), true, 'the command was killed');
    } finally {
      fs.rmSync(path.dirname(pidFile), { recursive: true, force: true });
    }
  });

  it('rejects with the spawn error when the command does not exist', async () => {
    await assert.rejects(runCommand('/nonexistent/kubectl', ['version']), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
  });
});
