/**
 * Preloaded (`node --require <this>`) into Azurite, a child process the rig cannot otherwise bound:
 * - `RIG_EXIT_WITH_STDIN=1`: exit when stdin closes. Azurite gets this, so it dies with the test
 *   process even when that is killed without running its exit hooks.
 * - `RIG_REMOVE_ON_EXIT=<dir>`: delete that folder when the process exits (Azurite's data, also
 *   when it exits because its parent died).
 *
 * Test-only: it is loaded through the child's command line or environment, never imported by
 * production code.
 */
import { rmSync } from 'node:fs';

const stdinFlag = process.env['RIG_EXIT_WITH_STDIN'];
const removeOnExit = process.env['RIG_REMOVE_ON_EXIT'];
// Children of this child must not inherit the exit rules.
delete process.env['RIG_EXIT_WITH_STDIN'];
delete process.env['RIG_REMOVE_ON_EXIT'];

if (removeOnExit) {
  process.on('exit', () => rmSync(removeOnExit, { recursive: true, force: true }));
}

if (stdinFlag === '1') {
  const exit = (): never => process.exit(0);
  process.stdin.on('end', exit);
  process.stdin.on('close', exit);
  process.stdin.on('error', exit);
  process.stdin.resume();
}
