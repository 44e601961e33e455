import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DeployResult } from '../../tasks/VvpDeploy/VvpDeployV1/deploy-result';
import { deployOutputs, renderSummary } from '../../tasks/VvpDeploy/VvpDeployV1/summary';

const report: DeployResult = {
  namespace: 'default',
  deployment: 'top-speed-windowing',
  deploymentId: 'd320ec04-16f5-4915-b236-6efa43b7e003',
  deploymentName: 'top-speed-windowing',
  previousJarUri: 'wasbs://c@a/app.jar?commit=old',
  targetJarUri: 'wasbs://c@a/app.jar?commit=new',
  jarUri: 'wasbs://c@a/app.jar?commit=new',
  jobId: 'job-2',
  previousJobId: 'job-1',
  state: 'RUNNING',
  created: false,
  rolledBack: false,
  outcome: 'succeeded',
  message: 'ok',
  startedAtMs: 0,
  finishedAtMs: 42_000,
};

const URL_ = 'https://vvp.example.com';

describe('run summary', () => {
  it('percent-encodes link parts so an id with parentheses cannot end the markdown link', () => {
    const md = renderSummary({ ...report, deploymentId: 'd)(x', namespace: 'ns' }, URL_);
    assert.ok(md.includes('(https://vvp.example.com/app/#/namespaces/ns/deployments/d%29%28x)'), md);
  });

  it('has no link behind a tunnel without a public VVP address', () => {
    assert.doesNotMatch(renderSummary(report, ''), /\]\(/);
  });

  it('does not claim the run is recorded on the deployment after a rollback restored its annotations', () => {
    const annotations = { 'azure-pipelines/runuri': 'https://dev.azure.com/o/p/_build/results?buildId=1', 'azure-pipelines/run': '20261206.1' };
    assert.match(renderSummary({ ...report, annotations }, URL_), /Recorded on the deployment/);
    const rolledBack = { ...report, annotations, outcome: 'failed' as const, rolledBack: true, rollback: { outcome: 'succeeded' as const, jarUri: 'x', jobId: 'job-3' } };
    assert.doesNotMatch(renderSummary(rolledBack, URL_), /Recorded on the deployment/);
  });

  it('shows no "New job restored" row for an action that starts no job', () => {
    assert.match(renderSummary(report, URL_), /New job restored/);
    for (const action of ['suspend', 'savepoint', 'cancel', 'delete']) {
      assert.doesNotMatch(renderSummary({ ...report, action, jobId: action === 'savepoint' ? 'job-2' : undefined }, URL_), /New job restored/, action);
    }
  });

  it('shows "jarUri now in VVP" only where it tells something: not when it is the new jarUri, by name when it is the previous one', () => {
    assert.doesNotMatch(renderSummary(report, URL_), /jarUri now in VVP/);
    assert.match(renderSummary({ ...report, jarUri: report.previousJarUri }, URL_), /\| jarUri now in VVP \| the previous jarUri \|/);
    assert.match(renderSummary({ ...report, jarUri: 'wasbs://c@a/other.jar' }, URL_), /\| jarUri now in VVP \| `wasbs:\/\/c@a\/other\.jar` \|/);
  });

  it('shows a failed health check with its restart count, the build and the changed fields of a spec-file deploy (at most 10)', () => {
    const paths = Array.from({ length: 12 }, (_, i) => `spec.template.spec.flinkConfiguration.k${i}`);
    const md = renderSummary({ ...report, outcome: 'failed', error: new Error('x'), healthFailed: { restarts: 3 }, build: '20261206.4', changedFields: paths }, URL_);
    assert.match(md, /\| Health check \| failed \(3 restarts\): see the message below \|/);
    assert.match(md, /\| Build \| `20261206\.4` \|/);
    assert.match(md, /\| Changed fields \| `spec\.template\.spec\.flinkConfiguration\.k0`, .*`spec\.template\.spec\.flinkConfiguration\.k9` and 2 more \|/);
    assert.doesNotMatch(md, /k10/);
  });

  it('names the savepoint of the previous job instead of repeating its location in the restored rows', () => {
    const location = 'wasbs://c@a/savepoints/sp-1';
    const savepoint = { id: 'sp-1', location, state: 'COMPLETED' };
    const upgraded = renderSummary({ ...report, savepoint, restoredFrom: location }, URL_);
    assert.equal(upgraded.split(location).length - 1, 1, upgraded);
    assert.match(upgraded, /\| New job restored \| the savepoint of the previous job \|/);
    const rolledBack = renderSummary(
      { ...report, savepoint, outcome: 'failed', error: new Error('x'), message: 'x', rolledBack: true, jobId: 'job-3', restoredFrom: location, rollback: { outcome: 'succeeded', jarUri: 'x', jobId: 'job-3', restoredFrom: location, stateFrom: 'upgradeSavepoint' } },
      URL_,
    );
    assert.match(rolledBack, /\| Rolled-back job \| `job-3`, started from the savepoint of the previous job \|/);
    assert.doesNotMatch(rolledBack, /New job restored/, 'jobId and restoredFrom describe the rolled-back job');
  });

  it('links to the deployment in the VVP UI', () => {
    const md = renderSummary({ ...report, deploymentId: 'd-1', namespace: 'default' }, 'https://vvp.example.com/');
    assert.match(md, /\]\(https:\/\/vvp\.example\.com\/app\/#\/namespaces\/default\/deployments\/d-1\)/);
  });

  it('shows deployment, namespace, both jarUris, job, state, duration and outcome', () => {
    const md = renderSummary(report, URL_);
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
    const md = renderSummary({ ...report, outcome: 'failed', rolledBack: true, error: new Error('boom'), message: 'boom\n```\n##vso[task.setvariable variable=x]1' }, URL_);
    assert.match(md, /Failed — rolled back: the previous deployment runs again/);
    // The fence is longer than any backtick run of the message, so the message cannot close it.
    assert.match(md, /````text\nboom\n```\n##vso\[task\.setvariable variable=x\]1\n````/);
  });

  it('escapes markdown in server-provided values', () => {
    const md = renderSummary({ ...report, state: 'RUN`NING|x' }, URL_);
    assert.ok(md.includes("`RUN'NING\\|x`"));
  });
});

describe('outputs', () => {
  const values = (r: DeployResult) => Object.fromEntries(Object.entries(deployOutputs(r)).map(([k, v]) => [k, v.value]));

  it('fills every output, with empty strings when unknown', () => {
    assert.deepEqual(values(report), {
      deploymentId: report.deploymentId,
      jobId: 'job-2',
      state: 'RUNNING',
      jarUri: report.jarUri,
      previousJarUri: report.previousJarUri,
      rolledBack: 'false',
      savepointId: '',
      savepointLocation: '',
      restoredFrom: '',
      restartRequired: '',
      planChanges: '',
      sqlScriptSha256: '',
    });
    assert.equal(values({ ...report, deploymentId: undefined, jobId: undefined, rolledBack: true }).rolledBack, 'true');
    assert.equal(values({ ...report, jobId: undefined }).jobId, '');
  });

  it('sets a jarUri output carrying a SAS as a secret variable, and plain jarUris as normal ones', () => {
    const sas = 'https://acct.blob.core.windows.net/vvp/app.jar?sv=2022-11-02&sig=c2VjcmV0c2lnbmF0dXJlMTIz&commit=abc';
    const outputs = deployOutputs({ ...report, jarUri: sas });
    assert.equal(outputs.jarUri.secret, true);
    assert.equal(outputs.previousJarUri.secret, false);
    assert.equal(outputs.deploymentId.secret, false);
  });
});

describe('run summary, both ways and per action', () => {
  it('links the run recorded on the deployment (azure-pipelines/runuri) next to the link to the deployment', () => {
    const md = renderSummary({ ...report, annotations: { 'azure-pipelines/runuri': 'https://dev.azure.com/org/My Project/_build/results?buildId=42', 'azure-pipelines/run': '20261204.1' } }, URL_);
    assert.ok(md.includes('[this run](https://dev.azure.com/org/My%20Project/_build/results?buildId=42)'), md);
    assert.ok(md.includes('(https://vvp.example.com/app/#/namespaces/default/deployments/'), md);
  });

  it('titles a lifecycle action by its name and says what it did instead of jarUri rows; a no-op shows its reason', () => {
    const md = renderSummary({ ...report, action: 'suspend', message: "VVP deployment 'app' is SUSPENDED (savepoint sp-1 at wasbs://c@a/sp-1)", state: 'SUSPENDED' }, URL_);
    assert.match(md, /^### Ververica Platform: suspend top-speed-windowing/);
    assert.match(md, /\| Outcome \| Suspended \(VVP took a savepoint and stopped the job\) \|/);
    assert.doesNotMatch(md, /New jarUri|wasbs:\/\/c@a\/sp-1/);
    const noop = renderSummary({ ...report, action: 'suspend', outcome: 'upToDate', message: "VVP deployment 'app': it is already suspended", state: 'SUSPENDED' }, URL_);
    assert.match(noop, /\| Outcome \| VVP deployment 'app': it is already suspended \|/);
  });
});
