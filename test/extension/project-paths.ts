import * as path from 'node:path';
import { ROOT } from '../rig/bundles';

export { ROOT };

/** A path inside the repository. */
export function fromRoot(...parts: string[]): string {
  return path.join(ROOT, ...parts);
}
