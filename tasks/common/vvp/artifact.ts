/**
 * What a deployment runs: a JAR (`{kind: JAR, jarUri}`) or a SQL script (`{kind: SQLSCRIPT,
 * sqlScript}`), each with `additionalDependencies` (UDF or connector JARs on the classpath).
 * The pure helpers here read it from a deployment, compare it, build the value a write sends,
 * name it in logs without secrets, and refuse a JAR ↔ SQL switch.
 */
import * as path from 'node:path';
import { LineIndex } from '../sql/positions';
import { splitStatements } from '../sql/statements';
import { sqlScriptSha256 } from '../sql/script-input';
import { maskJarUriQuery } from './jar-uri-secrets';
import { isJsonObject, pick } from './resources';

/** A JAR artifact: `jarUri` as sent (with `?commit=`). */
interface JarArtifact {
  kind: 'JAR';
  jarUri: string;
  /** URIs VVP puts on the classpath, in order; empty when none. */
  additionalDependencies: string[];
}

/** A SQL script artifact: the script exactly as sent. */
interface SqlScriptArtifact {
  kind: 'SQLSCRIPT';
  sqlScript: string;
  additionalDependencies: string[];
}

/** The content of an artifact, as a deployment holds it and as a write sends it. */
export type ArtifactContent = JarArtifact | SqlScriptArtifact;

/** The artifact a step deploys (DeployConfig.artifact). */
export type DeployArtifact =
  | JarArtifact
  | (SqlScriptArtifact & {
      /** Hex SHA-256 of the script's UTF-8 bytes (the text sent, BOM removed). */
      sha256: string;
      /** Absolute path of the `.sql` file, for annotations at its lines. */
      file: string;
    });

/**
 * An artifact of another kind VVP knows (`PYTHON`, or a kind this task does not deploy): only
 * its kind matters, to refuse a switch.
 */
interface OtherArtifact {
  kind: 'OTHER';
  /** `artifact.kind` as VVP holds it. */
  reported: string;
  additionalDependencies: string[];
}

/** What {@link artifactOfSpec} reads. */
export type SpecArtifact = ArtifactContent | OtherArtifact;

/**
 * `spec.template.spec.artifact` of a deployment or deployment spec (`{spec: …}`), or undefined
 * when it has none. A missing `kind` with a `jarUri` is a JAR (VVP's default); a missing
 * `jarUri` / `sqlScript` reads as ''; `additionalDependencies` keeps only the strings, in order.
 */
export function artifactOfSpec(specOrDeployment: { spec?: unknown } | undefined): SpecArtifact | undefined {
  const artifact = pick(specOrDeployment?.spec, 'template', 'spec', 'artifact');
  if (!isJsonObject(artifact)) return undefined;
  const additionalDependencies = Array.isArray(artifact.additionalDependencies)
    ? artifact.additionalDependencies.filter((d): d is string => typeof d === 'string')
    : [];
  const kind = typeof artifact.kind === 'string' && artifact.kind.trim() !== '' ? artifact.kind.trim().toUpperCase() : undefined;
  const text = (key: string): string => (typeof artifact[key] === 'string' ? (artifact[key] as string) : '');
  if (kind === 'SQLSCRIPT') return { kind: 'SQLSCRIPT', sqlScript: text('sqlScript'), additionalDependencies };
  if (kind === 'JAR' || (kind === undefined && typeof artifact.jarUri === 'string')) return { kind: 'JAR', jarUri: text('jarUri'), additionalDependencies };
  if (kind === undefined) return undefined;
  return { kind: 'OTHER', reported: String(artifact.kind), additionalDependencies };
}

/**
 * True when both run the same thing: same kind, the same jarUri (exactly) or the very same
 * script (character for character: a changed comment or line ending is a change), and the same
 * `additionalDependencies` in the same order. Undefined equals nothing, not even undefined.
 */
export function sameArtifact(a: SpecArtifact | undefined, b: SpecArtifact | undefined): boolean {
  if (!a || !b || a.kind !== b.kind) return false;
  if (a.additionalDependencies.length !== b.additionalDependencies.length) return false;
  if (a.additionalDependencies.some((d, i) => d !== b.additionalDependencies[i])) return false;
  if (a.kind === 'JAR' && b.kind === 'JAR') return a.jarUri === b.jarUri;
  if (a.kind === 'SQLSCRIPT' && b.kind === 'SQLSCRIPT') return a.sqlScript === b.sqlScript;
  // Another kind is never "the same": this task cannot tell what runs.
  return false;
}

/** Hex digits of the SHA-256 a log line shows (as `VvpUploadArtifact@1`'s `{sha256:12}`). */
const SHORT_SHA = 12;

/**
 * How logs and summaries name an artifact, without secrets: a JAR by its jarUri with every
 * query value except `commit` masked; a SQL script as `SQL script orders.sql (sha256
 * 0123456789ab, 3 statements)` (`N lines` when it has no complete statement to count). Never
 * the script itself: it may hold connector credentials.
 */
export function describeArtifact(artifact: DeployArtifact): string {
  if (artifact.kind === 'JAR') return maskJarUriQuery(artifact.jarUri);
  const statements = splitStatements(artifact.sqlScript).statements.length;
  const lines = artifact.sqlScript === '' ? 0 : new LineIndex(artifact.sqlScript).lineCount;
  const size = statements > 0 ? plural(statements, 'statement') : plural(lines, 'line');
  return `SQL script ${path.basename(artifact.file)} (sha256 ${artifact.sha256.slice(0, SHORT_SHA)}, ${size})`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** How messages name a deployment of a kind, and what a step of that kind deploys. */
const KIND_NAMES: Record<string, { deployment: string; artifact: string }> = {
  JAR: { deployment: 'a JAR deployment', artifact: 'a JAR' },
  SQLSCRIPT: { deployment: 'a SQL deployment', artifact: 'a SQL script' },
};

function kindOf(artifact: SpecArtifact): string {
  return artifact.kind === 'OTHER' ? artifact.reported.toUpperCase() : artifact.kind;
}

/**
 * Why the step must not turn the deployment's artifact into `next`, or undefined when the kinds
 * agree (or the deployment has no artifact yet). A merge PATCH would keep the old kind's fields
 * (`jarUri`, `entryClass`, `mainArgs` of the JAR; `sqlScript` of the SQL
 * script): VVP would get a mix of both, so the step refuses and says what to do instead.
 */
export function artifactKindSwitch(current: SpecArtifact | undefined, next: ArtifactContent): string | undefined {
  if (!current) return undefined;
  const from = kindOf(current);
  const to = kindOf(next);
  if (from === to) return undefined;
  const fromName = KIND_NAMES[from]?.deployment ?? `a deployment of artifact kind ${from}`;
  const toName = KIND_NAMES[to]?.artifact ?? `an artifact of kind ${to}`;
  const leftOver = from === 'JAR' ? 'jarUri, entryClass and mainArgs' : from === 'SQLSCRIPT' ? 'sqlScript' : `the ${from} artifact's fields`;
  return (
    `The deployment is ${fromName} (artifact kind ${from}) and this step deploys ${toName} (kind ${to}). ` +
    `The step does not switch an artifact's kind: VVP merges a PATCH into the deployment, which would keep ${leftOver} beside the new artifact. ` +
    'Deploy to a new deployment (another deployment name), or delete this one (action: delete) and let the step create it from deploymentSpecFile.'
  );
}

/** The artifact of a job: its frozen template's `spec.artifact`. */
export function jobArtifact(job: { spec?: unknown } | undefined): SpecArtifact | undefined {
  return artifactOfSpec({ spec: { template: { spec: job?.spec } } });
}

/** The noun messages use for what a deployment runs: `jarUri`, or `SQL script`. */
export function artifactNoun(artifact: SpecArtifact | undefined): string {
  return artifact?.kind === 'SQLSCRIPT' ? 'SQL script' : 'jarUri';
}

/**
 * How a message names an artifact read from VVP: a jarUri with its query values (but `commit`)
 * masked, a SQL script by its SHA-256 (never its text: it may hold connector credentials).
 */
export function shownArtifact(artifact: SpecArtifact | undefined): string {
  if (!artifact) return '(none)';
  if (artifact.kind === 'JAR') return maskJarUriQuery(artifact.jarUri);
  if (artifact.kind === 'SQLSCRIPT') return `SQL script (sha256 ${sqlScriptSha256(artifact.sqlScript).slice(0, SHORT_SHA)})`;
  return `a ${artifact.reported} artifact`;
}

/** What a wait expects the new job to run (an `UpgradeExpectation`'s artifact fields). */
export function expectedArtifact(artifact: SpecArtifact | undefined): { jarUri: string; sqlScript?: string } {
  if (artifact?.kind === 'SQLSCRIPT') return { jarUri: '', sqlScript: artifact.sqlScript };
  return { jarUri: artifact?.kind === 'JAR' ? artifact.jarUri : '' };
}
