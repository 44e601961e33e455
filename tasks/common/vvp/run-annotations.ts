/**
 * The deployment annotations that record which pipeline run changed a deployment, with the
 * keys KubernetesManifest@1 puts on the Kubernetes objects it deploys, so tooling that reads
 * those (and people who know them) find the run the same way on a VVP deployment.
 *
 * What KubernetesManifest@1 does (microsoft/azure-pipelines-tasks, Tasks/KubernetesManifestV1:
 * `annotateResources` in src/utils/DeploymentHelper.ts passes `pipelineAnnotations` from
 * azure-pipelines-tasks-kubernetes-common-v2, whose source is
 * microsoft/azure-pipelines-tasks-common-packages, common-npm-packages/kubernetes-common/
 * kubernetesconstants.ts):
 *
 *   azure-pipelines/run        = Build.BuildNumber            (release: Release.ReleaseId)
 *   azure-pipelines/pipeline   = Build.DefinitionName         (release: Release.DefinitionName)
 *   azure-pipelines/pipelineId = System.DefinitionId          (release: Release.DefinitionId)
 *   azure-pipelines/jobName    = Agent.JobName
 *   azure-pipelines/runuri     = <System.TeamFoundationCollectionUri><System.TeamProject>/_build/results?buildId=<Build.BuildId>
 *                                (release: …/_releaseProgress?releaseId=<Release.ReleaseId>)
 *   azure-pipelines/project    = System.TeamProject
 *   azure-pipelines/org        = System.TeamFoundationCollectionUri
 *
 * chosen by `SYSTEM_HOSTTYPE == release`, and applied with `kubectl annotate key=value`.
 * Two differences, on purpose: it writes pipeline, pipelineId and jobName as `key="value"`
 * through an argument list without a shell, so the quotes end up inside the stored value (its
 * own test fixture, Tests/TestSetup.ts, reads `"azure-pipelines/pipeline": "\"project1\""`); we store the plain
 * value. And it concatenates the project name into runuri as is; we percent-encode it, so a
 * project with spaces gives a working link. A missing variable leaves its key out (it would
 * write the text "undefined").
 */

/** Reads a pipeline variable (`tl.getVariable` in the task); undefined when not set. */
export type VariableReader = (name: string) => string | undefined;

/** The prefix of every run annotation; a plan does not count these as changes. */
const PIPELINE_ANNOTATION_PREFIX = 'azure-pipelines/';

/** The annotation keys, in the order KubernetesManifest@1 writes them. */
const PIPELINE_ANNOTATION_KEYS = [
  'azure-pipelines/run',
  'azure-pipelines/pipeline',
  'azure-pipelines/pipelineId',
  'azure-pipelines/jobName',
  'azure-pipelines/runuri',
  'azure-pipelines/project',
  'azure-pipelines/org',
] as const;
type PipelineAnnotationKey = (typeof PIPELINE_ANNOTATION_KEYS)[number];

/** True for a key under `azure-pipelines/`. */
export function isPipelineAnnotation(key: string): boolean {
  return key.startsWith(PIPELINE_ANNOTATION_PREFIX);
}

/**
 * The run annotations for `metadata.annotations` of the deployment, from the pipeline
 * variables. Values are strings (VVP annotations are a map of strings); a variable that is
 * unset or blank leaves its key out, and `runuri` is left out when any of its parts is missing.
 * In a classic release (`System.HostType` = `release`) the release's id, definition and
 * progress page are used, as KubernetesManifest@1 does.
 */
export function runAnnotations(read: VariableReader): Partial<Record<PipelineAnnotationKey, string>> {
  const variable = (name: string): string | undefined => {
    const value = read(name)?.trim();
    return value ? value : undefined;
  };
  const isRelease = variable('System.HostType')?.toLowerCase() === 'release';
  const org = variable('System.TeamFoundationCollectionUri');
  const project = variable('System.TeamProject');
  const runId = isRelease ? variable('Release.ReleaseId') : variable('Build.BuildId');

  const values: Record<PipelineAnnotationKey, string | undefined> = {
    'azure-pipelines/run': isRelease ? runId : variable('Build.BuildNumber'),
    'azure-pipelines/pipeline': variable(isRelease ? 'Release.DefinitionName' : 'Build.DefinitionName'),
    'azure-pipelines/pipelineId': variable(isRelease ? 'Release.DefinitionId' : 'System.DefinitionId'),
    'azure-pipelines/jobName': variable('Agent.JobName'),
    'azure-pipelines/runuri':
      org && project && runId
        ? `${withTrailingSlash(org)}${encodeURIComponent(project)}/${isRelease ? '_releaseProgress?releaseId=' : '_build/results?buildId='}${encodeURIComponent(runId)}`
        : undefined,
    'azure-pipelines/project': project,
    'azure-pipelines/org': org,
  };
  const out: Partial<Record<PipelineAnnotationKey, string>> = {};
  for (const key of PIPELINE_ANNOTATION_KEYS) {
    const value = values[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}

/**
 * The collection URI always ends in `/` on the agent (`https://dev.azure.com/org/`); a value
 * set by hand may not, and the link must not become `…/orgProject/…`.
 */
function withTrailingSlash(uri: string): string {
  return uri.endsWith('/') ? uri : `${uri}/`;
}
