/**
 * The documentation as data for the docs tests: the Markdown pages users read, their YAML
 * samples, the task steps in those samples, the task.json files as they are now, and the
 * headings links may point to.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ROOT } from '../rig/bundles';

/** The pages whose samples users paste: README.md, overview.md (marketplace) and docs/*.md. */
export function docPages(): string[] {
  const docs = fs
    .readdirSync(path.join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`);
  return ['README.md', 'overview.md', ...docs.sort()];
}

export function readPage(page: string): string {
  return fs.readFileSync(path.join(ROOT, page), 'utf8');
}

export interface YamlSample {
  page: string;
  /** 1-based line of the opening fence. */
  line: number;
  text: string;
}

/** Every ```yaml (or ```yml) block of a page. */
export function yamlSamples(page: string): YamlSample[] {
  const text = readPage(page);
  const samples: YamlSample[] = [];
  for (const m of text.matchAll(/^```ya?ml[^\n]*\n([\s\S]*?)^```/gm)) {
    samples.push({ page, line: text.slice(0, m.index).split('\n').length, text: m[1] });
  }
  return samples;
}

/** A parsed YAML sample: its documents, or the parser's first error. */
export function parseSample(sample: YamlSample): { documents: unknown[]; error?: string } {
  const documents = parseAllDocuments(sample.text);
  const docs = Array.isArray(documents) ? documents : [documents];
  const broken = docs.find((d) => d.errors.length > 0);
  if (broken) return { documents: [], error: broken.errors[0].message };
  return { documents: docs.map((d) => d.toJS() as unknown) };
}

export type Json = Record<string, unknown>;

/** One `- task: Vvp…@…` step of a sample, where it sits and what surrounds it. */
export interface TaskStep {
  task: string;
  step: Json;
  inputs: Json;
  /** The steps list the step is in (its siblings, itself included). */
  siblings: unknown[];
  /** The mappings from the document root down to the step (stages, jobs, strategies…). */
  ancestors: Json[];
  /** The document the step is in. */
  document: unknown;
}

/** Every step of a document whose `task` is one of this extension's tasks. */
export function taskSteps(document: unknown): TaskStep[] {
  const found: TaskStep[] = [];
  const visit = (node: unknown, ancestors: Json[], siblings: unknown[]): void => {
    if (Array.isArray(node)) {
      for (const item of node) visit(item, ancestors, node);
      return;
    }
    if (!node || typeof node !== 'object') return;
    const o = node as Json;
    if (typeof o.task === 'string' && /^Vvp[A-Za-z]+@/.test(o.task)) {
      const inputs = o.inputs && typeof o.inputs === 'object' ? (o.inputs as Json) : {};
      found.push({ task: o.task, step: o, inputs, siblings, ancestors, document });
      return;
    }
    for (const value of Object.values(o)) visit(value, [...ancestors, o], siblings);
  };
  visit(document, [], []);
  return found;
}

export interface TaskInputDefinition {
  name: string;
  type: string;
  aliases?: string[];
  defaultValue?: string | boolean;
  required?: boolean;
  options?: Record<string, string>;
  properties?: Record<string, string>;
  helpMarkDown?: string;
  visibleRule?: string;
}

export interface TaskDefinition {
  name: string;
  helpUrl: string;
  version: { Major: number };
  inputs: TaskInputDefinition[];
}

/** The task.json of every task folder (tasks/<Task>/<Task>V<major>/task.json), read now. */
export function taskDefinitions(): { file: string; task: TaskDefinition }[] {
  const tasksDir = path.join(ROOT, 'tasks');
  const found: { file: string; task: TaskDefinition }[] = [];
  for (const task of fs.readdirSync(tasksDir)) {
    const dir = path.join(tasksDir, task);
    if (!fs.statSync(dir).isDirectory()) continue;
    for (const version of fs.readdirSync(dir)) {
      const file = path.join(dir, version, 'task.json');
      if (!fs.existsSync(file)) continue;
      found.push({ file: path.relative(ROOT, file), task: JSON.parse(fs.readFileSync(file, 'utf8')) as TaskDefinition });
    }
  }
  return found;
}

/** The input of a task by its name or one of its aliases. */
export function findInput(task: TaskDefinition, name: string): TaskInputDefinition | undefined {
  return task.inputs.find((i) => i.name === name || (i.aliases ?? []).includes(name));
}

/** GitHub's anchor for a Markdown heading. */
export function headingAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors of every heading of a Markdown page (code blocks left out). */
export function pageAnchors(page: string): Set<string> {
  const text = readPage(page).replace(/^```[\s\S]*?^```/gm, '');
  return new Set([...text.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => headingAnchor(m[1])));
}

export function pageExists(page: string): boolean {
  return fs.existsSync(path.join(ROOT, page));
}
