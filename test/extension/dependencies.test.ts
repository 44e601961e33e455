import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fromRoot } from './project-paths';

/** Every installed copy of a package (nested node_modules included). */
function copiesOf(name: string, dir = fromRoot('node_modules')): string[] {
  const found: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const full = path.join(dir, entry.name);
    if (entry.name.startsWith('@')) {
      found.push(...copiesOf(name, full));
      continue;
    }
    if (path.relative(fromRoot('node_modules'), full).split(path.sep).filter((p) => p !== 'node_modules').join('/').endsWith(name)) {
      found.push(full);
    }
    const nested = path.join(full, 'node_modules');
    if (fs.existsSync(nested)) found.push(...copiesOf(name, nested));
  }
  return found;
}

test('exactly one copy of azure-pipelines-task-lib is installed, so both tasks and tool-lib share it', () => {
  assert.deepEqual(copiesOf('azure-pipelines-task-lib').map((p) => path.relative(fromRoot(), p)), ['node_modules/azure-pipelines-task-lib']);
});

test('the Azure SDK packages are pinned to the last lines that run on Node 20', () => {
  const pkg = JSON.parse(fs.readFileSync(fromRoot('package.json'), 'utf8')) as { dependencies: Record<string, string>; engines: { node: string } };
  assert.equal(pkg.dependencies['@azure/identity'], '4.13.1');
  assert.equal(pkg.dependencies['@azure/storage-blob'], '12.32.0');
  assert.equal(pkg.dependencies['@azure/keyvault-secrets'], '4.11.2');
  assert.equal(pkg.engines.node, '>=20');
  for (const name of ['@azure/identity', '@azure/storage-blob', '@azure/keyvault-secrets']) {
    const installed = JSON.parse(fs.readFileSync(fromRoot('node_modules', name, 'package.json'), 'utf8')) as { version: string };
    assert.equal(installed.version, pkg.dependencies[name], name);
  }
});
