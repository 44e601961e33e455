import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { docPages, pageAnchors, pageExists, readPage, taskDefinitions } from './doc-samples';

/** Where a link into the repository points: a page and an optional heading anchor. */
function problemWith(page: string, anchor: string | undefined): string | undefined {
  if (!pageExists(page)) return `no file ${page}`;
  if (anchor && page.endsWith('.md') && !pageAnchors(page).has(anchor)) return `no heading #${anchor} in ${page}`;
  return undefined;
}

test("every task input's help ends with a Learn more link to a section of the docs that exists", () => {
  const problems: string[] = [];
  for (const { file, task } of taskDefinitions()) {
    const repository = task.helpUrl.replace(/#.*$/, '').replace(/\/$/, '');
    for (const input of task.inputs) {
      const m = /\[Learn more\]\(([^)\s]+)\)$/.exec(input.helpMarkDown ?? '');
      if (!m) {
        problems.push(`${file}: ${input.name}: help does not end with [Learn more](…)`);
        continue;
      }
      const [target, anchor] = m[1].split('#');
      const prefix = `${repository}/blob/main/`;
      if (!target.startsWith(prefix)) {
        problems.push(`${file}: ${input.name}: ${m[1]} is not a page of ${prefix}`);
        continue;
      }
      const problem = problemWith(target.slice(prefix.length), anchor);
      if (problem) problems.push(`${file}: ${input.name}: ${problem}`);
    }
  }
  assert.deepEqual(problems, []);
});

test('every relative link in README.md, overview.md and docs/*.md leads to a file and heading that exist', () => {
  const problems: string[] = [];
  for (const page of docPages()) {
    const text = readPage(page).replace(/^```[\s\S]*?^```/gm, '');
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const link = m[1];
      if (/^[a-z]+:/i.test(link)) continue;
      const [target, anchor] = link.split('#');
      const resolved = target === '' ? page : path.posix.normalize(path.posix.join(path.posix.dirname(page), target));
      const problem = problemWith(resolved, anchor);
      if (problem) problems.push(`${page}: (${link}): ${problem}`);
    }
  }
  assert.deepEqual(problems, []);
});
