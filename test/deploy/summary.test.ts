import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DeployReport } from '../../tasks/VvpDeploy/VvpDeployV1/deploy';
import { deployOutputs, deploymentUiUrl, renderSummary } from '../../tasks/VvpDeploy/VvpDeployV1/summary';

const report: DeployReport = {
  namespace: 'default',
  deployment: 'top-speed-windowing',
  vvpUrl: 'https://vvp.example.com',
  deploymentId: 'd320ec04-16f5-4915-b236-6efa43b7e003',
  deploymentName: 'top-speed-windowing',
  previousJarUri: 'wasbs://c@a/app.jar?commit=old',
  targetJarUri: 'wasbs://c@a/app.jar?commit=new',
  jarUri: 'wasbs://c@a/app.jar?commit=new',
  jobId: 'job-2',
  previousJobId: 'job-1',
  state: 'RUNNING',
  created: false,
  changeApplied: true,
  rolledBack: false,
  outcome: 'succeeded',
  message: 'ok',
  startedAtMs: 0,
  finishedAtMs: 42_000,
};

describe('run summary', () => {
  it('links to the deployment in the VVP UI', () => {
    assert.equal(deploymentUiUrl('https://vvp.example.com/', 'default', 'd-1'), 'https://vvp.example.com/app/#/namespaces/default/deployments/d-1');
  });

  it('shows deployment, namespace, both jarUris, job, state, duration and outcome', () => {
    const md = renderSummary(report);
    for (const part of [
      '[top-speed-windowing](https://vvp.example.com/app/#/namespaces/default/deployments/d320ec04-16f5-4915-b236-6efa43b7e003)',
      '| Namespace | `default` |',
      '| Previous jarUri | `wasbs://c@a/app.jar?commit=old` |',
      '| New jarUri | `wasbs://c@a/app.jar?commit=new` |',
      '| Job | `job-2` |',
      '| State | `RUNNING` |',
      '| Duration | 42 s |',
      '| Outcome | Succeeded: the new job runs |',
    ]) {
      assert.ok(md.includes(part), `missing ${part}\n${md}`);
    }
  });

  it('adds the failure message in a fenced block and says when it rolled back', () => {
    const md = renderSummary({ ...report, outcome: 'failed', rolledBack: true, message: 'boom\n```\n##vso[task.setvariable variable=x]1' });
    assert.match(md, /Failed — rolled back to the previous template/);
    assert.match(md, /```text\nboom\n'''\n##vso/);
  });

  it('escapes markdown in server-provided values', () => {
    const md = renderSummary({ ...report, state: 'RUN`NING|x' });
    assert.ok(md.includes("`RUN'NING\\|x`"));
  });
});

describe('outputs', () => {
  it('fills every output, with empty strings when unknown', () => {
    assert.deepEqual(deployOutputs(report), {
      deploymentId: report.deploymentId,
      jobId: 'job-2',
      state: 'RUNNING',
      jarUri: report.jarUri,
      previousJarUri: report.previousJarUri,
      rolledBack: 'false',
    });
    assert.deepEqual(deployOutputs({ ...report, deploymentId: undefined, jobId: undefined, rolledBack: true }).rolledBack, 'true');
    assert.equal(deployOutputs({ ...report, jobId: undefined }).jobId, '');
  });
});
