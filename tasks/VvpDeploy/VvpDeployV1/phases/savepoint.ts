import { isAbortError } from '../../../common/errors/errors';
import { oneLine } from '../../../common/vvp/errors';
import type { Savepoint } from '../../../common/vvp/resources';
import { savepointOfTransition } from '../../../common/vvp/savepoints';
import { requestOptions, type FlowContext } from './context';
import { DIAGNOSTICS_BOUND_MS } from './explain';

/**
 * The savepoint VVP took of `jobId` for the transition that began at `sinceMs` (the upgrade
 * savepoint under STATEFUL, the suspend savepoint); undefined when there is none or it cannot
 * be read (a warning: the deploy itself is not affected). `role` names it in the log line, after
 * its id ("the upgrade savepoint of the previous job"); by default "of job <jobId>".
 */
export async function findTransitionSavepoint(context: FlowContext, deploymentId: string, jobId: string, sinceMs: number, role?: string): Promise<Savepoint | undefined> {
  const { config, clock, logger } = context;
  try {
    const all = await context.vvp.listSavepoints(config.namespace, { deploymentId }, requestOptions(context, clock.now() + DIAGNOSTICS_BOUND_MS));
    const found = savepointOfTransition(all, { jobId, sinceMs });
    if (found) {
      logger.info(
        `Savepoint ${oneLine(found.metadata.id)}${role ? `, ${role}` : ` of job ${oneLine(jobId)}`} (${oneLine(found.status?.state ?? 'state unknown')}): ${oneLine(found.spec?.savepointLocation ?? '(no location)')}`,
      );
    } else {
      logger.info(`VVP took no savepoint of job ${oneLine(jobId)} for this change (STATELESS, or none was needed).`);
    }
    return found;
  } catch (error) {
    if (isAbortError(error)) throw error;
    logger.warn(`Could not list the deployment's savepoints: ${(error as Error).message}`);
    return undefined;
  }
}
