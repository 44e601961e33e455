import { it, type TestContext } from 'node:test';
import { ledger } from './ledger';

/** A reliability scenario: a test that counts in the ledger once all its assertions passed. */
export function scenario(name: string, body: (t: TestContext) => Promise<void>): void {
  it(name, async (t) => {
    await body(t);
    ledger.scenarios++;
  });
}
