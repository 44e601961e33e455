/**
 * Issue 6: reliability and security of both bundled tasks under faults, bad inputs, echoed
 * secrets and cancellation. The suites below run side by side (each with its own rig and
 * simulator, so their faults cannot meet); the last test prints the counts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { badInputSuite } from './bad-inputs';
import { boundedWaitSuite } from './bounded-waits';
import { cancellationSuite } from './cancellation';
import { deployFaultSuite } from './deploy-faults';
import { pureCheckSuite } from './pure-checks';
import { secretHygieneSuite } from './secret-hygiene';
import { uploadFaultSuite } from './upload-faults';
import { ledger, ledgerLines } from './ledger';

// Every suite at once: they mostly wait on child processes and timers (the bad-input table,
// the one CPU-heavy part, runs four task processes at a time).
describe('reliability and security', { concurrency: true }, () => {
  uploadFaultSuite();
  deployFaultSuite();
  secretHygieneSuite();
  cancellationSuite();
  boundedWaitSuite();
  badInputSuite();
  pureCheckSuite();
});

test('reliability counts: scenarios, bad inputs, secrets scanned, false successes', (t) => {
  for (const line of ledgerLines()) t.diagnostic(line);
  assert.equal(ledger.falseSuccesses, 0);
});
