/**
 * Preloaded into a task process with `NODE_OPTIONS=--require <this file>`: at exit it writes the
 * Node built-in modules the process loaded (`process.moduleLoadList`) to the file named by
 * `MODULE_LIST_FILE`, one per line. Nothing else changes in the process.
 */
import * as fs from 'node:fs';

const target = process.env.MODULE_LIST_FILE;
if (target) {
  process.on('exit', () => {
    try {
      // Undocumented but stable since Node 0.x; the types do not declare it.
      fs.writeFileSync(target, ((process as unknown as { moduleLoadList: string[] }).moduleLoadList).join('\n'));
    } catch {
      // A probe must never change how the measured process ends.
    }
  });
}
