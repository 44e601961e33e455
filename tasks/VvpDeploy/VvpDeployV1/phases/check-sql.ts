import * as path from 'node:path';
import { checkSqlScript, type SqlCheck } from '../../../common/sql/check-script';
import type { SourceProblem } from '../../../common/sql/problem';
import type { DeployArtifact } from '../../../common/vvp/artifact';
import { DeploymentFailedError } from '../../../common/vvp/errors';
import type { VvpApi } from '../../../common/vvp/vvp-api';
import type { Logger } from '../../../common/logging/logger';
import type { DeployConfig } from '../inputs';
import { READS_BOUND_MS } from './context';

/** How many problems the step's error message lists (the annotations carry all of them). */
const LISTED_PROBLEMS = 5;

type SqlArtifact = Extract<DeployArtifact, { kind: 'SQLSCRIPT' }>;

/** The problems of a SQL script, for the entry's annotations at the file's lines. */
export interface SqlProblems {
  /** Absolute path of the `.sql` file. */
  file: string;
  problems: SourceProblem[];
}

/** A checked script: the problems to annotate and, when it may not be deployed, the error that ends the step. */
interface CheckedScript {
  problems?: SqlProblems;
  error?: DeploymentFailedError;
}

/**
 * Checks the script of a SQL deployment before any write: its shape offline, then (with `vvp`)
 * VVP's validation. Warnings are logged; problems end the step before anything is written.
 * Nothing for a JAR deployment.
 */
export async function checkScript(
  config: DeployConfig,
  deps: { vvp?: VvpApi; logger: Logger; clock: { now(): number }; abortSignal?: AbortSignal },
): Promise<CheckedScript> {
  const artifact = config.artifact;
  if (artifact.kind !== 'SQLSCRIPT') return {};
  const { logger } = deps;
  const check: SqlCheck = await checkSqlScript(
    { script: artifact.sqlScript, file: artifact.file },
    deps.vvp
      ? {
          vvp: deps.vvp,
          namespace: config.namespace,
          scope: { catalog: config.sqlCatalog, database: config.sqlDatabase },
          options: { abortSignal: deps.abortSignal, deadline: deps.clock.now() + READS_BOUND_MS },
        }
      : {},
  );
  for (const warning of check.warnings) logger.warn(warning);
  if (check.problems.length === 0) {
    logger.info(`${path.basename(artifact.file)}: ${describeCheck(check)}.`);
    return {};
  }
  logger.info(`${path.basename(artifact.file)}: ${check.problems.length} problem${check.problems.length === 1 ? '' : 's'} (${describeCheck(check)}); nothing is written.`);
  return { problems: { file: artifact.file, problems: check.problems }, error: scriptRefused(config, artifact, check.problems) };
}

function describeCheck(check: SqlCheck): string {
  switch (check.validatedBy) {
    case 'vvp':
      return check.deployable ? 'VVP validates it as an INSERT query' : 'validated by VVP';
    case 'vvp-per-statement':
      return check.deployable ? 'VVP validates each statement' : 'validated by VVP statement by statement';
    case 'offline':
      return check.deployable ? 'its statements have the shape of a SQL deployment (checked offline)' : 'checked offline';
    default: {
      const unknown: never = check.validatedBy;
      return String(unknown);
    }
  }
}

/** The step's error: the script may not be deployed, with its first problems at their lines. */
function scriptRefused(config: DeployConfig, artifact: SqlArtifact, problems: readonly SourceProblem[]): DeploymentFailedError {
  const name = path.basename(artifact.file);
  const listed = problems.slice(0, LISTED_PROBLEMS).map((p) => `${name}${p.position ? `:${p.position.line}:${p.position.column}` : ''}: ${p.message}`);
  const more = problems.length > LISTED_PROBLEMS ? `; and ${problems.length - LISTED_PROBLEMS} more` : '';
  return new DeploymentFailedError({
    kind: 'blocked',
    deployment: config.deployment,
    namespace: config.namespace,
    reason: `the SQL script ${name} cannot be deployed (${problems.length} problem${problems.length === 1 ? '' : 's'}): ${listed.join('; ')}${more}`,
    events: [],
  });
}
