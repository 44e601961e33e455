import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isPipelineAnnotation, runAnnotations, type VariableReader } from '../../tasks/common/vvp/run-annotations';

const BUILD: Record<string, string> = {
  'Build.BuildNumber': '20240502.7',
  'Build.DefinitionName': 'flink-jobs CI',
  'System.DefinitionId': '42',
  'Agent.JobName': 'Deploy to VVP',
  'System.TeamFoundationCollectionUri': 'https://dev.azure.com/contoso/',
  'System.TeamProject': 'Data Platform',
  'Build.BuildId': '1234',
};

const reader = (vars: Record<string, string | undefined>): VariableReader => (name) => vars[name];

describe('runAnnotations', () => {
  it('records the run with the keys and sources KubernetesManifest@1 uses', () => {
    assert.deepEqual(runAnnotations(reader(BUILD)), {
      'azure-pipelines/run': '20240502.7',
      'azure-pipelines/pipeline': 'flink-jobs CI',
      'azure-pipelines/pipelineId': '42',
      'azure-pipelines/jobName': 'Deploy to VVP',
      'azure-pipelines/runuri': 'https://dev.azure.com/contoso/Data%20Platform/_build/results?buildId=1234',
      'azure-pipelines/project': 'Data Platform',
      'azure-pipelines/org': 'https://dev.azure.com/contoso/',
    });
  });

  it('writes the keys in KubernetesManifest@1 order, all strings', () => {
    const annotations = runAnnotations(reader(BUILD));
    assert.deepEqual(Object.keys(annotations), [
      'azure-pipelines/run',
      'azure-pipelines/pipeline',
      'azure-pipelines/pipelineId',
      'azure-pipelines/jobName',
      'azure-pipelines/runuri',
      'azure-pipelines/project',
      'azure-pipelines/org',
    ]);
    for (const value of Object.values(annotations)) assert.equal(typeof value, 'string');
  });

  it('stores plain values, without the quotes KubernetesManifest@1 leaves in pipeline, pipelineId and jobName', () => {
    const annotations = runAnnotations(reader(BUILD));
    for (const key of ['azure-pipelines/pipeline', 'azure-pipelines/pipelineId', 'azure-pipelines/jobName'] as const) {
      assert.doesNotMatch(annotations[key] ?? '', /"/);
    }
  });

  it('leaves out the key of a missing or blank variable', () => {
    const annotations = runAnnotations(reader({ ...BUILD, 'Agent.JobName': undefined, 'Build.DefinitionName': '  ' }));
    assert.equal('azure-pipelines/jobName' in annotations, false);
    assert.equal('azure-pipelines/pipeline' in annotations, false);
    assert.equal(annotations['azure-pipelines/run'], '20240502.7');
  });

  for (const missing of ['System.TeamFoundationCollectionUri', 'System.TeamProject', 'Build.BuildId']) {
    it(`leaves out runuri when ${missing} is missing`, () => {
      const annotations = runAnnotations(reader({ ...BUILD, [missing]: undefined }));
      assert.equal('azure-pipelines/runuri' in annotations, false);
    });
  }

  it('returns nothing outside a pipeline', () => {
    assert.deepEqual(runAnnotations(() => undefined), {});
  });

  it('adds the slash a hand-set collection URI lacks', () => {
    const annotations = runAnnotations(reader({ ...BUILD, 'System.TeamFoundationCollectionUri': 'https://tfs.example.com/tfs/DefaultCollection' }));
    assert.equal(annotations['azure-pipelines/runuri'], 'https://tfs.example.com/tfs/DefaultCollection/Data%20Platform/_build/results?buildId=1234');
    assert.equal(annotations['azure-pipelines/org'], 'https://tfs.example.com/tfs/DefaultCollection');
  });

  it('percent-encodes every character of the project name a URL path cannot hold', () => {
    const annotations = runAnnotations(reader({ ...BUILD, 'System.TeamProject': 'R&D #1/Ü' }));
    assert.equal(annotations['azure-pipelines/runuri'], 'https://dev.azure.com/contoso/R%26D%20%231%2F%C3%9C/_build/results?buildId=1234');
    assert.equal(annotations['azure-pipelines/project'], 'R&D #1/Ü');
  });

  it('in a classic release, records the release as KubernetesManifest@1 does', () => {
    const annotations = runAnnotations(
      reader({
        ...BUILD,
        'System.HostType': 'release',
        'Release.ReleaseId': '77',
        'Release.DefinitionName': 'Flink prod',
        'Release.DefinitionId': '9',
      }),
    );
    assert.deepEqual(annotations, {
      'azure-pipelines/run': '77',
      'azure-pipelines/pipeline': 'Flink prod',
      'azure-pipelines/pipelineId': '9',
      'azure-pipelines/jobName': 'Deploy to VVP',
      'azure-pipelines/runuri': 'https://dev.azure.com/contoso/Data%20Platform/_releaseProgress?releaseId=77',
      'azure-pipelines/project': 'Data Platform',
      'azure-pipelines/org': 'https://dev.azure.com/contoso/',
    });
  });

  it('treats a build host type as a build', () => {
    assert.equal(runAnnotations(reader({ ...BUILD, 'System.HostType': 'build' }))['azure-pipelines/run'], '20240502.7');
  });
});

describe('isPipelineAnnotation', () => {
  for (const [key, expected] of [
    ['azure-pipelines/run', true],
    ['azure-pipelines/anything', true],
    ['com.dataartisans.appmanager.controller.deployment.spec.version', false],
    ['azure-pipelines', false],
    ['owner', false],
  ] as const) {
    it(`${expected ? 'recognises' : 'does not take'} ${key}`, () => assert.equal(isPipelineAnnotation(key), expected));
  }
});
