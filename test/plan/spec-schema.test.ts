import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildCreateBody, buildPatchBody, parseSpecText, replaceTokens } from '../../tasks/common/vvp/deployment-spec';
import { validateDeploymentSpec, type SpecProblem } from '../../tasks/common/vvp/spec-schema';
import { deploymentAsRead } from './fixtures';

const byPath = (problems: SpecProblem[]): Record<string, SpecProblem> => Object.fromEntries(problems.map((p) => [p.path, p]));

describe('validateDeploymentSpec: valid documents', () => {
  it('accepts a full deployment as VVP returns it from a GET (status, read-only metadata, system annotations, expanded defaults)', () => {
    assert.deepEqual(validateDeploymentSpec(deploymentAsRead()), []);
  });

  it('accepts a partial PATCH spec file: only the jarUri and a strategy', () => {
    const doc = parseSpecText(`
kind: Deployment
apiVersion: v1
spec:
  upgradeStrategy:
    kind: STATELESS
  template:
    spec:
      artifact:
        jarUri: JARURI
`);
    const { document } = replaceTokens(doc, { JARURI: 'wasbs://vvp@store.blob.core.windows.net/artifacts/namespaces/default/app.jar' });
    assert.deepEqual(validateDeploymentSpec(document), []);
  });

  it('accepts the PATCH and POST bodies the task builds from a spec file', () => {
    const doc = parseSpecText(`
metadata:
  name: demo
  labels: { team: streaming }
spec:
  deploymentTargetName: aks
  restoreStrategy: { kind: LATEST_SAVEPOINT, allowNonRestoredState: true }
  template:
    spec:
      parallelism: 4
      flinkConfiguration:
        state.backend: rocksdb
        execution.checkpointing.interval: 10s
`);
    const jarUri = 'wasbs://vvp@store.blob.core.windows.net/artifacts/namespaces/default/app.jar?commit=abc';
    assert.deepEqual(validateDeploymentSpec(buildPatchBody(doc, { kind: 'JAR', jarUri: jarUri, additionalDependencies: [] })), []);
    assert.deepEqual(validateDeploymentSpec(buildCreateBody(doc, { name: 'demo', namespace: 'default', artifact: { kind: 'JAR', jarUri, additionalDependencies: [] } })), []);
  });

  it('accepts a pod template that only adds volumes (a PATCH merges it into VVP’s own template)', () => {
    const doc = { spec: { template: { spec: { kubernetes: { jobManagerPodTemplate: { spec: { volumes: [{ name: 'cfg', configMap: { name: 'job-cfg' } }] } } } } } } };
    assert.deepEqual(validateDeploymentSpec(doc), []);
  });

  it('accepts Kubernetes quantities as strings or numbers and ports as numbers or names', () => {
    const container = {
      name: 'flink-taskmanager',
      resources: { limits: { cpu: '500m', memory: '2Gi' }, requests: { cpu: 1 } },
      readinessProbe: { tcpSocket: { port: 6122 } },
      livenessProbe: { httpGet: { port: 'metrics', path: '/' } },
    };
    const doc = { spec: { template: { spec: { kubernetes: { taskManagerPodTemplate: { spec: { containers: [container] } } } } } } };
    assert.deepEqual(validateDeploymentSpec(doc), []);
  });

  it('accepts an empty document (a PATCH of nothing is valid; the task adds the jarUri)', () => {
    assert.deepEqual(validateDeploymentSpec({}), []);
  });
});

describe('validateDeploymentSpec: problems', () => {
  it('names every problem at once, each with its path and the accepted form', () => {
    const doc = parseSpecText(`
kind: Deployment
metadata:
  labels:
    version: 2
spec:
  state: running
  upgradeStrategy:
    kind: STATEFULL
  restoreStrategy:
    kind: LATEST_STATE
    allowNonRestoredState: "yes"
  deploymentTargetId: DEPLOYMENTTARGETID
  template:
    spec:
      paralelism: 2
      numberOfTaskManagers: two
      flinkConfiguration:
        taskmanager.numberOfTaskSlots: 4
      resources:
        jobmanager: { cpu: 1, mem: 1G }
`);
    const problems = validateDeploymentSpec(doc);
    const found = byPath(problems);
    assert.deepEqual(Object.keys(found), [
      'metadata.labels.version',
      'spec.deploymentTargetId',
      'spec.restoreStrategy.allowNonRestoredState',
      'spec.state',
      'spec.template.spec.flinkConfiguration["taskmanager.numberOfTaskSlots"]',
      'spec.template.spec.numberOfTaskManagers',
      'spec.template.spec.paralelism',
      'spec.template.spec.resources.jobmanager.mem',
      'spec.upgradeStrategy.kind',
    ]);
    assert.equal(problems.length, 9);

    assert.equal(found['spec.template.spec.numberOfTaskManagers'].message, 'spec.template.spec.numberOfTaskManagers: is the string "two"; expected an integer');
    assert.equal(found['spec.upgradeStrategy.kind'].expected, 'one of STATEFUL, STATELESS, NONE');
    assert.equal(found['spec.upgradeStrategy.kind'].problem, 'is the string "STATEFULL"');
    assert.equal(found['spec.state'].expected, 'one of RUNNING, SUSPENDED, CANCELLED (VVP expects upper case: RUNNING)');
    assert.equal(found['spec.restoreStrategy.allowNonRestoredState'].expected, 'expected a boolean');
    assert.equal(found['spec.deploymentTargetId'].expected, 'expected a UUID such as 6232cc84-7aa3-4524-b3a8-36cab7203c47');
    assert.equal(found['metadata.labels.version'].expected, 'expected a string (quote it: "2")');
    assert.equal(found['spec.template.spec.flinkConfiguration["taskmanager.numberOfTaskSlots"]'].problem, 'is the number 4');

    const typo = found['spec.template.spec.paralelism'];
    assert.equal(typo.problem, "unknown field 'paralelism'");
    assert.equal(
      typo.expected,
      "did you mean 'parallelism'? known: artifact, flinkConfiguration, kubernetes, logging, numberOfTaskManagers, parallelism, resources",
    );
    assert.equal(found['spec.template.spec.resources.jobmanager.mem'].expected, 'known: cpu, memory', 'no guess when no name is close');
  });

  it('writes messages as sentences, not validator jargon', () => {
    const problems = validateDeploymentSpec({ spec: { template: { spec: { parallelism: '2', artifact: 'app.jar' } }, maxJobCreationAttempts: 1.5 } });
    for (const p of problems) {
      assert.equal(p.message, `${p.path}: ${p.problem}; ${p.expected}`);
      assert.doesNotMatch(p.message, /must be|must NOT|instancePath|#\/definitions|additionalProperties/);
    }
    assert.deepEqual(
      problems.map((p) => p.message),
      [
        'spec.maxJobCreationAttempts: is the number 1.5; expected an integer',
        'spec.template.spec.artifact: is the string "app.jar"; expected an object (a mapping of fields)',
        'spec.template.spec.parallelism: is the string "2"; expected an integer',
      ],
    );
  });

  it('rejects unknown top-level fields and unknown metadata, with the known ones', () => {
    const found = byPath(validateDeploymentSpec({ kind: 'Deployment', specs: {}, metadata: { name: 'x', label: { a: 'b' } } }));
    assert.equal(found.specs.problem, "unknown field 'specs'");
    assert.equal(found.specs.expected, "did you mean 'spec'? known: apiVersion, kind, metadata, spec, status");
    assert.match(found['metadata.label'].expected, /^did you mean 'labels'\? known: annotations, createdAt, displayName, id, labels/);
  });

  it('rejects a value the restore strategy does not know', () => {
    const [problem] = validateDeploymentSpec({ spec: { restoreStrategy: { kind: 'LATEST' } } });
    assert.equal(problem.message, 'spec.restoreStrategy.kind: is the string "LATEST"; one of LATEST_STATE, LATEST_SAVEPOINT, NONE');
  });

  it('rejects null (an empty YAML value): a null in a PATCH has no documented effect', () => {
    const doc = parseSpecText('spec:\n  template:\n    spec:\n      parallelism:\n');
    const [problem] = validateDeploymentSpec(doc);
    assert.equal(problem.message, 'spec.template.spec.parallelism: is empty (null); expected an integer');
  });

  it('points into lists by index and names a missing required field of a list item', () => {
    const doc = {
      spec: { template: { spec: { kubernetes: { jobManagerPodTemplate: { spec: { containers: [{ name: 'flink-jobmanager' }, { image: 'busybox', ports: [{ containerPort: '8080' }] }] } } } } } },
    };
    const problems = validateDeploymentSpec(doc);
    assert.deepEqual(
      problems.map((p) => p.message),
      [
        "spec.template.spec.kubernetes.jobManagerPodTemplate.spec.containers[1]: has no field 'name'; every V1Container needs: name",
        'spec.template.spec.kubernetes.jobManagerPodTemplate.spec.containers[1].ports[0].containerPort: is the string "8080"; expected an integer',
      ],
    );
  });

  it('checks integers against the int32 range of the swagger', () => {
    const [problem] = validateDeploymentSpec({ spec: { template: { spec: { parallelism: 2 ** 31 } } } });
    assert.equal(problem.expected, 'expected an integer from -2147483648 to 2147483647');
  });

  it('checks read-only timestamps when a document carries them', () => {
    const [problem] = validateDeploymentSpec({ metadata: { createdAt: 'yesterday' } });
    assert.equal(problem.message, 'metadata.createdAt: is the string "yesterday"; expected a date-time such as 2024-05-01T12:00:00Z');
  });

  it('quotes keys with dots or slashes in the path so they read as one field', () => {
    const found = byPath(validateDeploymentSpec({ metadata: { annotations: { 'azure-pipelines/run': 42 } }, spec: { template: { spec: { logging: { log4jLoggers: { '': false } } } } } }));
    assert.deepEqual(Object.keys(found), ['metadata.annotations["azure-pipelines/run"]', 'spec.template.spec.logging.log4jLoggers[""]']);
  });

  it('describes a top level that is not an object', () => {
    assert.deepEqual(
      validateDeploymentSpec([1, 2]).map((p) => p.message),
      ['(document): is a list (2 items); expected an object (a mapping of fields)'],
    );
  });

  it('shortens long values in messages', () => {
    const [problem] = validateDeploymentSpec({ spec: { maxJobCreationAttempts: 'x'.repeat(500) } });
    assert.ok(problem.message.length < 160, problem.message);
    assert.match(problem.problem, /^is the string "x{57}\.\.\."$/);
  });

  it('never shows the query values of a URI in a message (a SAS in the wrong field)', () => {
    const [problem] = validateDeploymentSpec({ spec: { deploymentTargetId: 'https://s.example/a.jar?sig=c2VjcmV0c2VjcmV0' } });
    assert.equal(problem.problem, 'is the string "https://s.example/a.jar?sig=***"');
  });

  it('gives the same answer on every call (the validator is compiled once and kept)', () => {
    const doc = { spec: { state: 'PAUSED' } };
    assert.deepEqual(validateDeploymentSpec(doc), validateDeploymentSpec(doc));
    assert.deepEqual(validateDeploymentSpec(deploymentAsRead()), []);
  });
});
