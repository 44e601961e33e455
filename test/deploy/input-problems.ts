import assert from 'node:assert/strict';
import { InputError } from '../../tasks/common/errors/errors';

/** The InputError `parse` throws, as `input: expected` lines; fails when it throws none. */
export function inputProblems(parse: () => unknown): string[] {
  try {
    parse();
  } catch (e) {
    assert.ok(e instanceof InputError, String(e));
    return e.problems.map((p) => `${p.input}: ${p.expected}`);
  }
  assert.fail('expected an InputError');
}
