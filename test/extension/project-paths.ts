import * as path from 'node:path';

/** Repository root, from out/test/extension/ or test/extension/. */
export const ROOT = path.resolve(__dirname, __dirname.includes(`${path.sep}out${path.sep}`) ? '../../..' : '../..');

export function fromRoot(...parts: string[]): string {
  return path.join(ROOT, ...parts);
}
