import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  buildCreateBody,
  buildPatchBody,
  checkSpecDocument,
  containsSubset,
  deepMerge,
  parseSpecText,
  replaceTokens,
  SpecFileProblem,
} from '../../tasks/common/vvp/deployment-spec';

const JAR = 'wasbs://c@a.blob.core.windows.net/artifacts/namespaces/default/app.jar?commit=abc';

describe('parseSpecText', () => {
  it('reads a YAML Deployment', () => {
    const doc = parseSpecText('kind: Deployment\nmetadata:\n  name: app\nspec:\n  template:\n    spec:\n      parallelism: 2\n');
    assert.deepEqual(doc, { kind: 'Deployment', metadata: { name: 'app' }, spec: { template: { spec: { parallelism: 2 } } } });
  });
  it('reads a JSON Deployment', () => {
    assert.deepEqual(parseSpecText('{"spec":{"state":"RUNNING"}}'), { spec: { state: 'RUNNING' } });
  });
  it('accepts a byte order mark and a leading document marker', () => {
    assert.deepEqual(parseSpecText('\uFEFF---\nspec: {}\n'), { spec: {} });
  });
  it('turns YAML timestamps into strings, not Date objects', () => {
    const doc = parseSpecText('metadata:\n  annotations:\n    at: 2025-01-01\n');
    assert.equal(typeof (doc.metadata as { annotations: { at: unknown } }).annotations.at, 'string');
  });
  const bad: [string, string, RegExp][] = [
    ['an empty file', '   \n', /empty/],
    ['a YAML syntax error, with its line', 'spec:\n  state: [RUNNING\n', /not valid YAML or JSON at line \d+/],
    ['a JSON syntax error', '{"spec": {', /not valid YAML or JSON/],
    ['a list at the top', '- a\n- b\n', /top level is a list/],
    ['a scalar at the top', 'just text', /top level is a string/],
    ['several documents', 'spec: {}\n---\nspec: {}\n', /2 YAML documents/],
    ['duplicate keys', 'spec: {}\nspec: {}\n', /not valid YAML/],
  ];
  for (const [name, text, message] of bad) {
    it(`rejects ${name}`, () => assert.throws(() => parseSpecText(text), (e: unknown) => e instanceof SpecFileProblem && message.test(e.message)));
  }
});

describe('replaceTokens', () => {
  const doc = {
    spec: {
      deploymentTargetId: 'DEPLOYMENTTARGETID',
      template: { spec: { artifact: { jarUri: 'JARURI', mainArgs: '--jar JARURI --x' } } },
      list: ['JARURI', 1, true, null],
    },
    JARURI: 'keys are not replaced',
  };
  it('replaces both tokens in every string value, keys untouched', () => {
    const { document, unresolved } = replaceTokens(doc, { JARURI: 'wasbs://x/app.jar', DEPLOYMENTTARGETID: 'd-1' });
    assert.deepEqual(unresolved, []);
    assert.deepEqual(document, {
      spec: {
        deploymentTargetId: 'd-1',
        template: { spec: { artifact: { jarUri: 'wasbs://x/app.jar', mainArgs: '--jar wasbs://x/app.jar --x' } } },
        list: ['wasbs://x/app.jar', 1, true, null],
      },
      JARURI: 'keys are not replaced',
    });
  });
  it('reports tokens left without a value and leaves them in place', () => {
    const { document, unresolved } = replaceTokens(doc, { JARURI: 'j' });
    assert.deepEqual(unresolved, ['DEPLOYMENTTARGETID']);
    assert.equal((document.spec as { deploymentTargetId: string }).deploymentTargetId, 'DEPLOYMENTTARGETID');
  });
  it('is fine when a token has no value but does not occur', () => {
    assert.deepEqual(replaceTokens({ spec: { state: 'RUNNING' } }, {}).unresolved, []);
  });
  it('replaces whole words only', () => {
    const { document, unresolved } = replaceTokens({ a: 'MY_JARURI JARURIS xJARURI' }, { JARURI: 'j' });
    assert.deepEqual(document, { a: 'MY_JARURI JARURIS xJARURI' });
    assert.deepEqual(unresolved, []);
  });
  it('keeps characters that are special in YAML intact (the replacement happens after parsing)', () => {
    const parsed = parseSpecText('spec:\n  template:\n    spec:\n      artifact:\n        jarUri: JARURI\n');
    const value = 'wasbs://c@a/x.jar?commit=1#frag: yes';
    const { document } = replaceTokens(parsed, { JARURI: value });
    assert.equal((document as any).spec.template.spec.artifact.jarUri, value);
  });
});

describe('buildPatchBody', () => {
  it('is only the jarUri without a spec file', () => {
    assert.deepEqual(buildPatchBody(undefined, { kind: 'JAR', jarUri: JAR, additionalDependencies: [] }), { spec: { template: { spec: { artifact: { jarUri: JAR } } } } });
  });
  it('merges the spec file fields with the jarUri, which wins over the file', () => {
    const file = parseSpecText(
      'kind: Deployment\napiVersion: v1\nmetadata:\n  name: app\n  id: 123\n  resourceVersion: 7\n  labels: {team: a}\nspec:\n  upgradeStrategy: {kind: STATEFUL}\n  template:\n    spec:\n      parallelism: 4\n      artifact: {kind: JAR, jarUri: wasbs://old/app.jar, entryClass: com.x.Main}\nstatus:\n  state: RUNNING\n',
    );
    assert.deepEqual(buildPatchBody(file, { kind: 'JAR', jarUri: JAR, additionalDependencies: [] }), {
      spec: {
        upgradeStrategy: { kind: 'STATEFUL' },
        template: { spec: { parallelism: 4, artifact: { kind: 'JAR', jarUri: JAR, entryClass: 'com.x.Main' } } },
      },
      metadata: { labels: { team: 'a' } },
    });
  });
  it('builds the same body from equivalent YAML and JSON files', () => {
    const yaml = parseSpecText('spec:\n  template:\n    spec:\n      parallelism: 2\n      flinkConfiguration:\n        a: "1"\n');
    const json = parseSpecText('{"spec":{"template":{"spec":{"parallelism":2,"flinkConfiguration":{"a":"1"}}}}}');
    assert.deepEqual(buildPatchBody(yaml, { kind: 'JAR', jarUri: JAR, additionalDependencies: [] }), buildPatchBody(json, { kind: 'JAR', jarUri: JAR, additionalDependencies: [] }));
  });
  it('does not modify the spec document', () => {
    const file = { spec: { template: { spec: { artifact: { jarUri: 'x' } } } } };
    buildPatchBody(file, { kind: 'JAR', jarUri: JAR, additionalDependencies: [] });
    assert.equal(file.spec.template.spec.artifact.jarUri, 'x');
  });
});

describe('buildCreateBody', () => {
  it('fills name, namespace, jarUri, artifact kind and state; drops status and read-only metadata', () => {
    const file = parseSpecText('metadata:\n  id: x\n  displayName: App\nspec:\n  deploymentTargetName: t\n  template:\n    spec:\n      artifact: {flinkVersion: "1.17"}\nstatus: {state: RUNNING}\n');
    assert.deepEqual(buildCreateBody(file, { name: 'app', namespace: 'ns', artifact: { kind: 'JAR', jarUri: JAR, additionalDependencies: [] } }), {
      kind: 'Deployment',
      apiVersion: 'v1',
      metadata: { displayName: 'App', name: 'app', namespace: 'ns' },
      spec: { deploymentTargetName: 't', state: 'RUNNING', template: { spec: { artifact: { flinkVersion: '1.17', jarUri: JAR, kind: 'JAR' } } } },
    });
  });
  it('keeps a state and artifact kind the file sets', () => {
    const body = buildCreateBody({ spec: { state: 'CANCELLED', template: { spec: { artifact: { kind: 'SQLSCRIPT' } } } } }, { name: 'a', namespace: 'n', artifact: { kind: 'JAR', jarUri: JAR, additionalDependencies: [] } });
    assert.equal((body.spec as any).state, 'CANCELLED');
    assert.equal((body.spec as any).template.spec.artifact.kind, 'SQLSCRIPT');
  });
});

describe('checkSpecDocument', () => {
  const target = { deployment: 'app', namespace: 'default', deploymentIsId: false };
  it('accepts a matching document', () => assert.deepEqual(checkSpecDocument({ kind: 'Deployment', metadata: { name: 'app', namespace: 'default' }, spec: {} }, target), []));
  it('names each mismatch', () => {
    const problems = checkSpecDocument({ kind: 'Job', metadata: { name: 'other', namespace: 'x' }, spec: { template: 'no' } }, target);
    assert.equal(problems.length, 4);
    assert.match(problems.join('\n'), /kind is 'Job'/);
    assert.match(problems.join('\n'), /metadata.name is 'other'/);
    assert.match(problems.join('\n'), /metadata.namespace is 'x'/);
    assert.match(problems.join('\n'), /spec.template must be an object/);
  });
  it('does not compare the name when the deployment is given by id', () => {
    assert.deepEqual(checkSpecDocument({ metadata: { name: 'other' } }, { ...target, deploymentIsId: true }), []);
  });
});

describe('deepMerge and containsSubset', () => {
  it('merges objects and replaces scalars, arrays and null like a VVP PATCH', () => {
    assert.deepEqual(deepMerge({ a: { b: 1, c: [1, 2] }, d: 1 }, { a: { c: [3], e: null }, d: 'x' }), { a: { b: 1, c: [3], e: null }, d: 'x' });
  });
  it('checks that every field of a patch is present in a document', () => {
    assert.equal(containsSubset({ a: { b: 1, c: 2 } }, { a: { b: 1 } }), true);
    assert.equal(containsSubset({ a: { b: 1 } }, { a: { b: 2 } }), false);
    assert.equal(containsSubset({ a: [1, 2] }, { a: [1] }), false);
  });
});
