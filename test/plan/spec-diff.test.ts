import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildCreateBody, buildPatchBody } from '../../tasks/common/vvp/deployment-spec';
import type { Deployment, JsonObject, JsonValue } from '../../tasks/common/vvp/resources';
import { markdownText } from '../../tasks/common/logging/markdown';
import {
  planDeploymentChange,
  renderPlanLines,
  renderPlanMarkdown,
  type DeploymentPlan,
  type JobImpact,
  type SpecChange,
} from '../../tasks/common/vvp/spec-diff';
import { deploymentAsRead } from './fixtures';

const OLD_JAR = 'wasbs://vvp@vvpstore.blob.core.windows.net/artifacts/namespaces/default/demo-0.1.jar?commit=e81c66d0a4b2';
const NEW_JAR = 'wasbs://vvp@vvpstore.blob.core.windows.net/artifacts/namespaces/default/demo-0.2.jar?commit=5f1d2c3b';
const JOB = '8f0b6f5e-2c1d-4c4a-9a57-0d0b3f2f6b11';

function withSpec(edit: (d: Deployment) => void): Deployment {
  const d = deploymentAsRead();
  edit(d);
  return d;
}

describe('planDeploymentChange: the diff', () => {
  const table: { name: string; current?: Deployment; change: JsonObject; changes: SpecChange[] }[] = [
    {
      name: 'a changed jarUri is one ~ line with the old and new value',
      change: buildPatchBody(undefined, { kind: 'JAR', jarUri: NEW_JAR, additionalDependencies: [] }),
      changes: [{ op: '~', path: 'spec.template.spec.artifact.jarUri', before: OLD_JAR, after: NEW_JAR }],
    },
    {
      name: 'the same jarUri is up to date: no changes',
      change: buildPatchBody(undefined, { kind: 'JAR', jarUri: OLD_JAR, additionalDependencies: [] }),
      changes: [],
    },
    {
      name: 'a field the deployment lacks is a + line',
      change: { spec: { template: { spec: { artifact: { entryClass: 'com.example.Job' } } } } },
      changes: [{ op: '+', path: 'spec.template.spec.artifact.entryClass', after: 'com.example.Job' }],
    },
    {
      name: 'an added object is listed field by field',
      change: { spec: { template: { spec: { kubernetes: { jobManagerPodTemplate: { metadata: { labels: { team: 'x', tier: 'y' } } } } } } } },
      changes: [
        { op: '+', path: 'spec.template.spec.kubernetes.jobManagerPodTemplate.metadata.labels.team', after: 'x' },
        { op: '+', path: 'spec.template.spec.kubernetes.jobManagerPodTemplate.metadata.labels.tier', after: 'y' },
      ],
    },
    {
      name: 'nested changes keep the document order and leave equal fields out',
      change: {
        spec: {
          upgradeStrategy: { kind: 'STATELESS' },
          template: { spec: { parallelism: 4, resources: { jobmanager: { cpu: 0.5, memory: '2G' } }, flinkConfiguration: { 'state.backend': 'rocksdb' } } },
        },
      },
      changes: [
        { op: '~', path: 'spec.upgradeStrategy.kind', before: 'STATEFUL', after: 'STATELESS' },
        { op: '~', path: 'spec.template.spec.parallelism', before: 1, after: 4 },
        { op: '~', path: 'spec.template.spec.resources.jobmanager.memory', before: '1G', after: '2G' },
        { op: '~', path: 'spec.template.spec.flinkConfiguration["state.backend"]', before: 'filesystem', after: 'rocksdb' },
      ],
    },
    {
      name: 'a list is replaced whole (VVP does not merge lists): one ~ line',
      change: { spec: { template: { spec: { kubernetes: { pods: { envVars: [{ name: 'TZ', value: 'UTC' }, { name: 'LANG', value: 'C' }] } } } } } },
      changes: [
        {
          op: '~',
          path: 'spec.template.spec.kubernetes.pods.envVars',
          before: [{ name: 'TZ', value: 'UTC' }],
          after: [{ name: 'TZ', value: 'UTC' }, { name: 'LANG', value: 'C' }],
        },
      ],
    },
    {
      name: 'an equal list is no change',
      change: { spec: { template: { spec: { kubernetes: { pods: { envVars: [{ value: 'UTC', name: 'TZ' }] } } } } } },
      changes: [],
    },
    {
      name: 'an object replaced by a scalar removes its fields: one ~ line with the old object',
      current: withSpec((d) => {
        d.spec.restoreStrategy = { kind: 'LATEST_STATE' };
      }),
      change: { spec: { restoreStrategy: 'NONE' } },
      changes: [{ op: '~', path: 'spec.restoreStrategy', before: { kind: 'LATEST_STATE' }, after: 'NONE' }],
    },
    {
      name: 'labels, annotations and displayName are compared; VVP system annotations are ignored',
      change: {
        metadata: {
          displayName: 'Demo',
          labels: { app: 'wikiedits', env: 'prod' },
          annotations: { 'com.dataartisans.appmanager.controller.deployment.spec.version': '8', owner: 'data-team' },
          resourceVersion: 99,
        },
      },
      changes: [
        { op: '~', path: 'metadata.displayName', before: 'vvp-pipeline-demo', after: 'Demo' },
        { op: '+', path: 'metadata.labels.env', after: 'prod' },
        { op: '+', path: 'metadata.annotations.owner', after: 'data-team' },
      ],
    },
    {
      name: 'a template annotation is a spec change (it restarts the job)',
      change: { spec: { template: { metadata: { annotations: { 'flink.example/owner': 'x' } } } } },
      changes: [{ op: '+', path: 'spec.template.metadata.annotations["flink.example/owner"]', after: 'x' }],
    },
  ];
  for (const row of table) {
    it(row.name, () => {
      const plan = planDeploymentChange({ current: row.current ?? deploymentAsRead(), change: row.change });
      assert.deepEqual(plan.changes, row.changes);
      assert.equal(plan.planChanges, row.changes.length);
      assert.equal(plan.exists, true);
    });
  }

  it('lists the run annotations apart and does not count them', () => {
    const current = withSpec((d) => {
      d.metadata.annotations = { ...d.metadata.annotations, 'azure-pipelines/run': '20240501.1' };
    });
    const change = buildPatchBody(undefined, { kind: 'JAR', jarUri: OLD_JAR, additionalDependencies: [] });
    change.metadata = { annotations: { 'azure-pipelines/run': '20240502.7', 'azure-pipelines/jobName': 'Deploy' } };
    const plan = planDeploymentChange({ current, change });
    assert.equal(plan.planChanges, 0, 'only the run record would change: up to date, nothing written');
    assert.deepEqual(plan.changes, []);
    assert.deepEqual(plan.pipelineAnnotations, [
      { op: '~', path: 'metadata.annotations["azure-pipelines/run"]', before: '20240501.1', after: '20240502.7' },
      { op: '+', path: 'metadata.annotations["azure-pipelines/jobName"]', after: 'Deploy' },
    ]);
    assert.equal(plan.restartRequired, false);
  });

  it('describes a missing deployment as created: every field of the POST body is a + line', () => {
    const body = buildCreateBody(
      { metadata: { labels: { app: 'demo' }, annotations: { 'azure-pipelines/run': '1' } }, spec: { upgradeStrategy: { kind: 'STATEFUL' }, template: { spec: { parallelism: 2 } } } },
      { name: 'demo', namespace: 'default', artifact: { kind: 'JAR', jarUri: NEW_JAR, additionalDependencies: [] } },
    );
    const plan = planDeploymentChange({ change: body });
    assert.equal(plan.exists, false);
    assert.deepEqual(plan.changes, [
      { op: '+', path: 'spec.upgradeStrategy.kind', after: 'STATEFUL' },
      { op: '+', path: 'spec.template.spec.parallelism', after: 2 },
      { op: '+', path: 'spec.template.spec.artifact.jarUri', after: NEW_JAR },
      { op: '+', path: 'spec.template.spec.artifact.kind', after: 'JAR' },
      { op: '+', path: 'spec.state', after: 'RUNNING' },
      { op: '+', path: 'metadata.labels.app', after: 'demo' },
    ]);
    assert.equal(plan.pipelineAnnotations.length, 1);
    assert.equal(plan.planChanges, 6);
    assert.equal(plan.restartRequired, true);
    assert.deepEqual(plan.impact, { kind: 'create', desiredState: 'RUNNING', upgradeStrategy: 'STATEFUL' });
  });

  it('with PUT, lists the fields the body lacks as removed (a rollback to the deployment as read)', () => {
    const previous = deploymentAsRead();
    const current = withSpec((d) => {
      d.spec.template = structuredClone(d.spec.template);
      const spec = (d.spec.template as { spec: JsonObject }).spec;
      (spec.artifact as JsonObject).jarUri = NEW_JAR;
      (spec.artifact as JsonObject).entryClass = 'com.example.NewJob';
      d.metadata.labels = { app: 'wikiedits', release: 'canary' };
      d.metadata.annotations = { ...d.metadata.annotations, 'azure-pipelines/run': '20240502.7' };
    });
    const body: JsonObject = { metadata: { labels: previous.metadata.labels ?? {}, annotations: previous.metadata.annotations ?? {} }, spec: previous.spec };
    const plan = planDeploymentChange({ current, change: body, method: 'PUT' });
    assert.deepEqual(plan.changes, [
      { op: '~', path: 'spec.template.spec.artifact.jarUri', before: NEW_JAR, after: OLD_JAR },
      { op: '-', path: 'spec.template.spec.artifact.entryClass', before: 'com.example.NewJob' },
      { op: '-', path: 'metadata.displayName', before: 'vvp-pipeline-demo' },
      { op: '-', path: 'metadata.labels.release', before: 'canary' },
    ]);
    assert.deepEqual(plan.pipelineAnnotations, [{ op: '-', path: 'metadata.annotations["azure-pipelines/run"]', before: '20240502.7' }]);
    assert.equal(plan.restartRequired, true);
    assert.equal(planDeploymentChange({ current, change: body }).changes.some((c) => c.op === '-'), false, 'a PATCH of the same body removes nothing');
  });

  it('does not modify the deployment or the change it is given', () => {
    const current = deploymentAsRead();
    const change = buildPatchBody({ spec: { template: { spec: { parallelism: 3 } } } }, { kind: 'JAR', jarUri: NEW_JAR, additionalDependencies: [] });
    const before = JSON.stringify([current, change]);
    planDeploymentChange({ current, change });
    assert.equal(JSON.stringify([current, change]), before);
  });
});

describe('planDeploymentChange: restartRequired and the job', () => {
  const rows: { name: string; current?: Deployment; change: JsonObject; restartRequired: boolean; impact: JobImpact }[] = [
    {
      name: 'a new jarUri on a running STATEFUL deployment replaces the job, savepointing it',
      change: buildPatchBody(undefined, { kind: 'JAR', jarUri: NEW_JAR, additionalDependencies: [] }),
      restartRequired: true,
      impact: { kind: 'replace', jobId: JOB, upgradeStrategy: 'STATEFUL', restoreStrategy: 'LATEST_STATE', allowNonRestoredState: false },
    },
    {
      name: 'the strategies shown are the merged ones (the change sets STATELESS)',
      change: { spec: { upgradeStrategy: { kind: 'STATELESS' }, restoreStrategy: { kind: 'NONE' }, template: { spec: { parallelism: 2 } } } },
      restartRequired: true,
      impact: { kind: 'replace', jobId: JOB, upgradeStrategy: 'STATELESS', restoreStrategy: 'NONE', allowNonRestoredState: false },
    },
    {
      name: 'a strategy change alone does not restart the job',
      change: { spec: { upgradeStrategy: { kind: 'STATELESS' } } },
      restartRequired: false,
      impact: { kind: 'none', observedState: 'RUNNING', jobId: JOB },
    },
    {
      name: 'metadata alone does not restart the job',
      change: { metadata: { labels: { env: 'prod' } } },
      restartRequired: false,
      impact: { kind: 'none', observedState: 'RUNNING', jobId: JOB },
    },
    {
      name: 'upgrade strategy NONE stores the template and keeps the job',
      current: withSpec((d) => {
        d.spec.upgradeStrategy = { kind: 'NONE' };
      }),
      change: buildPatchBody(undefined, { kind: 'JAR', jarUri: NEW_JAR, additionalDependencies: [] }),
      restartRequired: true,
      impact: { kind: 'keep', jobId: JOB },
    },
    {
      name: 'spec.state SUSPENDED suspends the job',
      change: { spec: { state: 'SUSPENDED' } },
      restartRequired: true,
      impact: { kind: 'suspend', jobId: JOB },
    },
    {
      name: 'spec.state CANCELLED cancels the job',
      change: { spec: { state: 'CANCELLED' } },
      restartRequired: true,
      impact: { kind: 'cancel', jobId: JOB },
    },
    {
      name: 'RUNNING on a suspended deployment starts a job',
      current: withSpec((d) => {
        d.spec.state = 'SUSPENDED';
        d.status = { state: 'SUSPENDED' };
      }),
      change: { spec: { state: 'RUNNING' } },
      restartRequired: true,
      impact: { kind: 'start', observedState: 'SUSPENDED', restoreStrategy: 'LATEST_STATE', allowNonRestoredState: false },
    },
    {
      name: 'a new template on a failed deployment starts a job',
      current: withSpec((d) => {
        d.status = { state: 'FAILED' };
      }),
      change: buildPatchBody(undefined, { kind: 'JAR', jarUri: NEW_JAR, additionalDependencies: [] }),
      restartRequired: true,
      impact: { kind: 'start', observedState: 'FAILED', restoreStrategy: 'LATEST_STATE', allowNonRestoredState: false },
    },
    {
      name: 'a new template on a deployment that stays suspended is only stored',
      current: withSpec((d) => {
        d.spec.state = 'SUSPENDED';
        d.status = { state: 'SUSPENDED' };
      }),
      change: buildPatchBody(undefined, { kind: 'JAR', jarUri: NEW_JAR, additionalDependencies: [] }),
      restartRequired: true,
      impact: { kind: 'store', desiredState: 'SUSPENDED' },
    },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const plan = planDeploymentChange({ current: row.current ?? deploymentAsRead(), change: row.change });
      assert.equal(plan.restartRequired, row.restartRequired);
      assert.deepEqual(plan.impact, row.impact);
    });
  }
});

/** A plan with `changes` (default: one) whose job sentence is `impact`'s. */
function planOf(impact: JobImpact, changes: SpecChange[] = [{ op: '~', path: 'spec.template.spec.parallelism', before: 1, after: 2 }]): DeploymentPlan {
  return { exists: impact.kind !== 'create', changes, pipelineAnnotations: [], planChanges: changes.length, restartRequired: true, impact };
}

describe('the sentence on the job (the last line of a plan)', () => {
  const rows: { impact: JobImpact; text: string }[] = [
    {
      impact: { kind: 'replace', jobId: JOB, upgradeStrategy: 'STATEFUL', restoreStrategy: 'LATEST_STATE' },
      text:
        `Replaces the running job ${JOB} with a new job: upgrade strategy STATEFUL (VVP takes a savepoint of the running job before stopping it); ` +
        'restore strategy LATEST_STATE: the new job starts from the latest savepoint or retained checkpoint.',
    },
    {
      impact: { kind: 'replace', upgradeStrategy: 'STATELESS', restoreStrategy: 'LATEST_SAVEPOINT', allowNonRestoredState: true },
      text:
        'Replaces the running job with a new job: upgrade strategy STATELESS (VVP stops the running job without a savepoint); ' +
        'restore strategy LATEST_SAVEPOINT: the new job starts from the latest savepoint, allowing non-restored state.',
    },
    {
      impact: { kind: 'replace', jobId: JOB },
      text: `Replaces the running job ${JOB} with a new job: upgrade strategy not set (the namespace defaults apply); restore strategy not set (the namespace defaults apply).`,
    },
    { impact: { kind: 'keep', jobId: JOB }, text: `Stores the new template but keeps the running job ${JOB}: the upgrade strategy is NONE, so no new job starts.` },
    { impact: { kind: 'none', observedState: 'RUNNING', jobId: JOB }, text: `Does not replace the running job ${JOB}: neither the template nor the desired state changes.` },
    { impact: { kind: 'none', observedState: 'CANCELLED' }, text: 'Starts no job: neither the template nor the desired state changes (the deployment is CANCELLED).' },
    { impact: { kind: 'start', observedState: 'SUSPENDED', restoreStrategy: 'NONE' }, text: 'Starts a job (the deployment is SUSPENDED); restore strategy NONE: the new job starts with empty state.' },
    { impact: { kind: 'suspend', jobId: JOB }, text: `Suspends job ${JOB}: VVP takes a savepoint and stops the job.` },
    { impact: { kind: 'cancel' }, text: 'Cancels the deployment: VVP stops the job without a savepoint.' },
    { impact: { kind: 'store', desiredState: 'CANCELLED' }, text: 'Stores the new template; no job runs while the desired state is CANCELLED.' },
    {
      impact: { kind: 'create', desiredState: 'RUNNING', upgradeStrategy: 'STATEFUL' },
      text: 'Creates the deployment (it does not exist yet) and starts its first job (upgrade strategy STATEFUL, restore strategy not set).',
    },
    { impact: { kind: 'create', desiredState: 'SUSPENDED' }, text: 'Creates the deployment (it does not exist yet) in desired state SUSPENDED; no job starts.' },
  ];
  for (const row of rows) {
    it(`says: ${row.text}`, () => {
      assert.equal(renderPlanLines(planOf(row.impact)).at(-1), row.text);
      assert.ok(renderPlanMarkdown(planOf(row.impact)).endsWith(`\n\n${markdownText(row.text)}\n`), renderPlanMarkdown(planOf(row.impact)));
    });
  }
});

describe('how a plan shows values', () => {
  const PATH = 'spec.template.spec.flinkConfiguration.x';
  /** The value as a plan's log line and its markdown show it (a field `value` would set). */
  const shown = (value: JsonValue | undefined, options: Parameters<typeof renderPlanLines>[1] = {}): string => {
    const plan = planOf({ kind: 'replace' }, [{ op: '+', path: PATH, after: value }]);
    const line = renderPlanLines(plan, options)[1] ?? '';
    const prefix = `  + ${PATH}: `;
    assert.ok(line.startsWith(prefix), line);
    const text = line.slice(prefix.length);
    assert.ok(renderPlanMarkdown(plan, options).includes(`\n+ ${PATH}: ${text}\n`), 'the markdown shows the same text');
    return text;
  };

  const rows: { name: string; value: JsonValue | undefined; text: string }[] = [
    { name: 'a plain string bare', value: 'RUNNING', text: 'RUNNING' },
    { name: 'a number', value: 4, text: '4' },
    { name: 'a boolean', value: true, text: 'true' },
    { name: 'a string that reads as a number, quoted', value: '4', text: '"4"' },
    { name: 'a string that reads as a boolean, quoted', value: 'false', text: '"false"' },
    { name: 'an empty string, quoted', value: '', text: '""' },
    { name: 'a string with a newline, escaped on one line', value: 'a\nb', text: '"a\\nb"' },
    { name: 'an object as compact JSON', value: { cpu: 1, memory: '1G' }, text: '{"cpu":1,"memory":"1G"}' },
    { name: 'a list as compact JSON', value: ['a', 'b'], text: '["a","b"]' },
    { name: 'null', value: null, text: 'null' },
    { name: 'nothing', value: undefined, text: '(none)' },
    { name: 'a jarUri with a SAS, its query values masked except commit', value: 'https://s.example/a.jar?sv=2022-11-02&sig=abc%2Bdef%3D&commit=c1', text: 'https://s.example/a.jar?sv=***&sig=***&commit=c1' },
    { name: 'URIs inside a list masked too', value: ['https://s.example/lib.jar?sig=secretsecret'], text: '["https://s.example/lib.jar?sig=***"]' },
  ];
  for (const row of rows) {
    it(`shows ${row.name}`, () => assert.equal(shown(row.value), row.text));
  }

  it('shortens a long value in the middle, keeping its end', () => {
    const text = shown(`wasbs://c@a.blob.core.windows.net/${'x'.repeat(300)}.jar?commit=abc`, { maxValueLength: 80 });
    assert.equal(text.length, 80);
    assert.match(text, /^wasbs:\/\/c@a\.blob/);
    assert.match(text, /…x+\.jar\?commit=abc$/);
  });

  it('masks with the hook before shortening, so a cut secret cannot slip through', () => {
    const secret = 'S3CR3T-VALUE-0123456789';
    const text = shown(`prefix ${secret} ${'y'.repeat(100)}`, { maskValue: (t) => t.split(secret).join('***'), maxValueLength: 40 });
    assert.doesNotMatch(text, /S3CR3T/);
    assert.match(text, /^prefix \*\*\* y+…y+$/);
  });
});

describe('renderPlanLines and renderPlanMarkdown', () => {
  const sasJar = 'https://store.example/demo.jar?sv=2022-11-02&sig=Zm9vYmFyYmF6cXV4&commit=5f1d2c3b';

  function planWithChanges() {
    const change = buildPatchBody({ spec: { template: { spec: { parallelism: 2 } } } }, { kind: 'JAR', jarUri: sasJar, additionalDependencies: [] });
    change.metadata = { annotations: { 'azure-pipelines/run': '20240502.7' } };
    return planDeploymentChange({ current: deploymentAsRead(), change });
  }

  it('logs the headline, one line per change, the run annotations apart, and the job sentence', () => {
    assert.deepEqual(renderPlanLines(planWithChanges()), [
      '2 fields would change.',
      `  ~ spec.template.spec.artifact.jarUri: ${OLD_JAR} → https://store.example/demo.jar?sv=***&sig=***&commit=5f1d2c3b`,
      '  ~ spec.template.spec.parallelism: 1 → 2',
      '  recorded with the change (run annotations, not counted):',
      '    + metadata.annotations["azure-pipelines/run"]: "20240502.7"',
      `Replaces the running job ${JOB} with a new job: upgrade strategy STATEFUL (VVP takes a savepoint of the running job before stopping it); ` +
        'restore strategy LATEST_STATE: the new job starts from the latest savepoint or retained checkpoint.',
    ]);
  });

  it('says up to date, and nothing else, when nothing would change', () => {
    const plan = planDeploymentChange({ current: deploymentAsRead(), change: buildPatchBody(undefined, { kind: 'JAR', jarUri: OLD_JAR, additionalDependencies: [] }) });
    assert.deepEqual(renderPlanLines(plan), ['No changes: the deployment is up to date; nothing would be written.']);
    assert.equal(renderPlanMarkdown(plan), '**Plan:** No changes: the deployment is up to date; nothing would be written.\n');
  });

  it('never shows the SAS signature, in the log or the summary', () => {
    const plan = planWithChanges();
    for (const text of [...renderPlanLines(plan), renderPlanMarkdown(plan)]) assert.doesNotMatch(text, /Zm9vYmFy|2022-11-02/);
  });

  it('neutralises logging commands inside values', () => {
    const plan = planDeploymentChange({ current: deploymentAsRead(), change: { metadata: { labels: { note: '##vso[task.setvariable variable=x]1' } } } });
    const lines = renderPlanLines(plan);
    assert.ok(lines.some((l) => l.includes('metadata.labels.note')));
    for (const line of lines) assert.doesNotMatch(line, /##vso\[/);
  });

  it('writes the summary as a ```diff block with ~, + and - lines and the job sentence after it', () => {
    const markdown = renderPlanMarkdown(planWithChanges());
    assert.equal(
      markdown,
      [
        '**Plan:** 2 fields would change.',
        '',
        '```diff',
        `~ spec.template.spec.artifact.jarUri: ${OLD_JAR} → https://store.example/demo.jar?sv=***&sig=***&commit=5f1d2c3b`,
        '~ spec.template.spec.parallelism: 1 → 2',
        '# recorded with the change (run annotations, not counted)',
        '+ metadata.annotations["azure-pipelines/run"]: "20240502.7"',
        '```',
        '',
        `Replaces the running job ${JOB} with a new job: upgrade strategy STATEFUL \\(VVP takes a savepoint of the running job before stopping it\\); ` +
          'restore strategy LATEST\\_STATE: the new job starts from the latest savepoint or retained checkpoint.',
        '',
      ].join('\n'),
    );
  });

  it('shows a removed field as a - line', () => {
    const plan = planDeploymentChange({ current: deploymentAsRead(), change: { spec: { restoreStrategy: 'NONE' } } });
    assert.match(renderPlanMarkdown(plan), /\n~ spec\.restoreStrategy: \{"kind":"LATEST_STATE","allowNonRestoredState":false\} → NONE\n/);
    const removal: SpecChange = { op: '-', path: 'spec.template.spec.artifact.entryClass', before: 'com.example.Old' };
    const lines = renderPlanLines({ ...plan, changes: [removal], planChanges: 1 });
    assert.equal(lines[1], '  - spec.template.spec.artifact.entryClass: com.example.Old');
  });

  it('lengthens the fence when a value holds backticks, so the block cannot be closed early', () => {
    const plan = planDeploymentChange({ current: deploymentAsRead(), change: { metadata: { labels: { note: 'a ```` b' } } } });
    const markdown = renderPlanMarkdown(plan);
    assert.match(markdown, /\n`````diff\n/);
    assert.match(markdown, /\n`````\n/);
  });

  it('describes the creation of a missing deployment', () => {
    const plan = planDeploymentChange({ change: buildCreateBody({ spec: {} }, { name: 'demo', namespace: 'default', artifact: { kind: 'JAR', jarUri: NEW_JAR, additionalDependencies: [] } }) });
    assert.deepEqual(renderPlanLines(plan), [
      'The deployment does not exist; creating it would set 3 fields.',
      `  + spec.template.spec.artifact.jarUri: ${NEW_JAR}`,
      '  + spec.template.spec.artifact.kind: JAR',
      '  + spec.state: RUNNING',
      'Creates the deployment (it does not exist yet) and starts its first job (upgrade strategy not set, restore strategy not set).',
    ]);
  });
});
