// Generates docs/reference.md (every input and output of every task) from the task.json files,
// so the reference can never drift from what the tasks accept. `--check` exits 1 when the
// committed file is out of date (used by the docs test).
import { readFileSync, writeFileSync, readdirSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(root, 'docs', 'reference.md');

const cell = (text) => String(text ?? '').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

export function renderReference() {
  const lines = [
    '# Task reference',
    '',
    '<!-- Generated from the task.json files by `node .ci/docs.mjs`; do not edit by hand. -->',
    '',
  ];
  for (const task of readdirSync(join(root, 'tasks')).sort()) {
    const taskDir = join(root, 'tasks', task);
    for (const version of readdirSync(taskDir).sort()) {
      const file = join(taskDir, version, 'task.json');
      if (!existsSync(file)) continue;
      const t = JSON.parse(readFileSync(file, 'utf8'));
      const groups = Object.fromEntries((t.groups ?? []).map((g) => [g.name, g.displayName]));
      lines.push(`## ${t.name}@${t.version.Major}`, '', t.description, '');
      lines.push('### Inputs', '', '| input | type | default | required | shown when | meaning |', '|---|---|---|---|---|---|');
      for (const i of t.inputs) {
        const type = i.options ? `${i.type}: ${Object.keys(i.options).map((o) => `\`${o}\``).join(' / ')}` : i.type;
        const name = i.aliases?.length ? `\`${i.name}\` (alias \`${i.aliases.join('`, `')}\`)` : `\`${i.name}\``;
        const def = i.defaultValue === undefined || i.defaultValue === '' ? '' : `\`${i.defaultValue}\``;
        const where = [i.groupName ? `group: ${groups[i.groupName] ?? i.groupName}` : '', i.visibleRule ? `\`${i.visibleRule}\`` : '']
          .filter(Boolean)
          .join('; ');
        lines.push(`| ${name} | ${cell(type)} | ${cell(def)} | ${i.required ? 'yes' : 'no'} | ${cell(where)} | ${cell(i.helpMarkDown)} |`);
      }
      lines.push('', '### Output variables', '', '| output | value |', '|---|---|');
      for (const o of t.outputVariables ?? []) lines.push(`| \`${o.name}\` | ${cell(o.description)} |`);
      lines.push('');
    }
  }
  return lines.join('\n');
}

const text = renderReference();
if (process.argv.includes('--check')) {
  const current = existsSync(target) ? readFileSync(target, 'utf8') : '';
  if (current !== text) {
    console.error('docs/reference.md is out of date: run `node .ci/docs.mjs`');
    process.exit(1);
  }
  console.log('docs/reference.md is up to date');
} else {
  writeFileSync(target, text);
  console.log('wrote docs/reference.md');
}
