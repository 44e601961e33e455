/**
 * Scenario files (YAML or JSON) that seed a simulator: config, namespaces, tokens,
 * global behaviour, deployments and faults. See scenarios/*.yaml and README.md.
 */
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { ApiError } from './api-error';
import { parseToken } from './auth';
import { parseBehaviourPatch } from './behaviour';
import { parseFault } from './faults';
import { isPlainObject } from './plain-object';
import { parseConfigPatch, parseSeed, type SimulatorInit } from './simulator-state';

const KEYS = ['config', 'namespaces', 'auth', 'tokens', 'behaviour', 'deployments', 'faults'];

/** A scenario that cannot be used; the message names the file and the field. */
export class ScenarioError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ScenarioError';
  }
}

/**
 * Validates a parsed scenario document.
 * @throws ScenarioError naming the bad field.
 */
export function parseScenario(doc: unknown, source = 'scenario'): SimulatorInit {
  const fail = (message: string, cause?: unknown): never => {
    throw new ScenarioError(`${source}: ${message}`, { cause });
  };
  if (!isPlainObject(doc)) return fail('must be a mapping with keys ' + KEYS.join(', '));
  const unknown = Object.keys(doc).filter((k) => !KEYS.includes(k));
  if (unknown.length > 0) fail(`unknown key(s) ${unknown.join(', ')}; accepted: ${KEYS.join(', ')}`);
  const field = <T>(name: string, parse: () => T): T => {
    try {
      return parse();
    } catch (error) {
      if (error instanceof ApiError) return fail(`${name}: ${error.message}`, error);
      throw error;
    }
  };
  const init: SimulatorInit = {};
  if (doc.config !== undefined) init.config = field('config', () => parseConfigPatch(doc.config));
  if (doc.namespaces !== undefined) {
    if (!Array.isArray(doc.namespaces) || !doc.namespaces.every((n) => typeof n === 'string')) fail('namespaces must be a list of names');
    init.namespaces = doc.namespaces as string[];
  }
  if (doc.tokens !== undefined) {
    if (!Array.isArray(doc.tokens)) fail('tokens must be a list');
    init.tokens = field('tokens', () => (doc.tokens as unknown[]).map(parseToken));
  }
  if (doc.auth !== undefined) {
    if (!isPlainObject(doc.auth) || typeof doc.auth.enabled !== 'boolean') fail('auth must be {enabled: true|false}');
    init.authEnabled = (doc.auth as { enabled: boolean }).enabled;
  }
  if (doc.behaviour !== undefined) init.behaviour = field('behaviour', () => parseBehaviourPatch(doc.behaviour));
  if (doc.deployments !== undefined) {
    if (!Array.isArray(doc.deployments)) fail('deployments must be a list');
    init.deployments = (doc.deployments as unknown[]).map((d, i) => field(`deployments[${i}]`, () => parseSeed(d)));
  }
  if (doc.faults !== undefined) {
    if (!Array.isArray(doc.faults)) fail('faults must be a list');
    (doc.faults as unknown[]).forEach((f, i) => field(`faults[${i}]`, () => parseFault(f)));
    init.faults = doc.faults as unknown[];
  }
  // Seeded deployments may live in namespaces not listed explicitly.
  const namespaces = new Set(init.namespaces ?? ['default']);
  for (const seed of init.deployments ?? []) namespaces.add(seed.namespace ?? 'default');
  init.namespaces = [...namespaces];
  return init;
}

/**
 * Reads a scenario file (YAML, or JSON which is YAML too).
 * @throws ScenarioError when unreadable or invalid.
 */
export function loadScenario(path: string): SimulatorInit {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ScenarioError(`cannot read scenario file ${path}: ${(error as Error).message}`, { cause: error });
  }
  const doc = YAML.parseDocument(text);
  if (doc.errors.length > 0) throw new ScenarioError(`${path}: invalid YAML/JSON: ${doc.errors[0].message}`);
  return parseScenario(doc.toJS(), path);
}
