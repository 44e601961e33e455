import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createInterface } from 'node:readline';
import { startSimulator, type RunningSimulator } from './client';

const SCENARIOS = join(__dirname, '..', '..', '..', 'test', 'vvp-simulator', 'scenarios');
const DEMO_JAR = 'wasbs://vvp@vvpstorage.blob.core.windows.net/artifacts/namespaces/default/top-speed-windowing.jar?commit=0000000';
const NEW_JAR = 'wasbs://vvp@vvpstorage.blob.core.windows.net/artifacts/namespaces/default/top-speed-windowing.jar?commit=1234567';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function patchJar(sim: RunningSimulator, token: string, jarUri: string): Promise<Response> {
  return fetch(`${sim.url}/api/v1/namespaces/default/deployments/top-speed-windowing`, {
    method: 'PATCH',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ spec: { template: { spec: { artifact: { jarUri } } } } }),
  });
}

describe('the simulator as a child process', () => {
  let sim: RunningSimulator;
  before(async () => {
    sim = await startSimulator({ scenario: join(SCENARIOS, 'demo.yaml'), timeScale: 0.1 });
  });
  after(async () => {
    await sim.stop();
  });

  it('starts from the demo scenario and upgrades the seeded deployment to a new job', async () => {
    assert.match(sim.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const before = await sim.control.truth('default', 'top-speed-windowing');
    assert.equal(before.runningJob?.jarUri, DEMO_JAR);
    const answer = await patchJar(sim, 'demo-editor-token', NEW_JAR);
    assert.equal(answer.status, 200);
    const after = await sim.control.waitFor('default', 'top-speed-windowing', (t) => t.statusState === 'RUNNING' && t.runningJob?.jarUri === NEW_JAR && t.statusJobId === t.runningJob?.id);
    assert.notEqual(after.statusJobId, before.statusJobId);
    assert.ok(sim.stderrLines().some((line) => /Deployment \S+ TRANSITIONING -> RUNNING/.test(line)), 'state changes are logged on stderr');
    const [recorded] = await sim.control.requests({ method: 'PATCH' });
    assert.equal(recorded.headers.authorization, 'Bearer demo-editor-token');
  });

  it('rejects the demo viewer token for writes', async () => {
    assert.equal((await patchJar(sim, 'demo-viewer-token', NEW_JAR)).status, 403);
  });

  it('stops and leaves no process behind', async () => {
    const other = await startSimulator({ timeScale: 0 });
    assert.ok(isAlive(other.pid));
    await other.stop();
    assert.equal(isAlive(other.pid), false);
  });
});

describe('the failing scenario', () => {
  it('fails the next upgrade with a realistic failure and runs a rollback to the previous jarUri', async () => {
    const sim = await startSimulator({ scenario: join(SCENARIOS, 'failing.yaml'), timeScale: 0.05 });
    try {
      assert.equal((await patchJar(sim, 'demo-editor-token', NEW_JAR)).status, 200);
      const failed = await sim.control.waitFor('default', 'top-speed-windowing', (t) => t.statusState === 'FAILED');
      const failure = failed.jobs.at(-1)?.failure as { reason: string; message: string; failedAt: string };
      assert.match(failure.message, /ClassNotFoundException/);
      assert.equal(failed.runningJob, null);
      assert.equal((await patchJar(sim, 'demo-editor-token', DEMO_JAR)).status, 200);
      const back = await sim.control.waitFor('default', 'top-speed-windowing', (t) => t.statusState === 'RUNNING' && t.runningJob?.jarUri === DEMO_JAR);
      assert.equal(back.statusJobId, back.runningJob?.id);
    } finally {
      await sim.stop();
    }
  });
});

describe('main.js', () => {
  const mainJs = join(__dirname, 'main.js');

  it('exits when stdin closes if started with --exit-on-stdin-close', async () => {
    const child = spawn(process.execPath, [mainJs, '--port', '0', '--exit-on-stdin-close', '--quiet'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const ready = await new Promise<string>((resolve) => createInterface({ input: child.stdout }).once('line', resolve));
    assert.equal(JSON.parse(ready).event, 'ready');
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.stdin.end();
    assert.equal(await exited, 0);
  });

  it('exits cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, [mainJs, '--port', '0', '--quiet'], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<string>((resolve) => createInterface({ input: child.stdout }).once('line', resolve));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  });

  it('exits with status 2 and a clear message for a bad option', async () => {
    const child = spawn(process.execPath, [mainJs, '--time-scale', 'fast'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    assert.equal(code, 2);
    assert.match(stderr, /--time-scale 'fast': expected a number >= 0/);
  });
});
