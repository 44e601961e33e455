import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import schema from '../../tasks/common/vvp/deployment-schema.json';

/** The project root: tests run from out/test/plan/. */
const ROOT = join(__dirname, '..', '..', '..');

interface SchemaNode {
  $ref?: string;
  title?: string;
  type?: string | string[];
  format?: string;
  enum?: string[];
  items?: SchemaNode;
  properties?: Record<string, SchemaNode>;
  additionalProperties?: boolean | SchemaNode;
  required?: string[];
}

const definitions = (schema as unknown as { definitions: Record<string, SchemaNode> }).definitions;

/** Follows `$ref`s along a path of property names from the Deployment. */
function at(...path: string[]): SchemaNode {
  let node: SchemaNode = definitions.Deployment;
  const deref = (n: SchemaNode): SchemaNode => (n.$ref ? definitions[n.$ref.replace('#/definitions/', '')] : n);
  for (const key of path) {
    const next = deref(node).properties?.[key];
    assert.ok(next, `schema has no ${path.join('.')} (stopped at ${key})`);
    node = next;
  }
  return deref(node);
}

/** Every object schema in the document, with where it is. */
function objectSchemas(): { where: string; node: SchemaNode }[] {
  const found: { where: string; node: SchemaNode }[] = [];
  const visit = (node: SchemaNode, where: string): void => {
    if (node.type === 'object') found.push({ where, node });
    for (const [k, v] of Object.entries(node.properties ?? {})) visit(v, `${where}.${k}`);
    if (node.items) visit(node.items, `${where}[]`);
    if (typeof node.additionalProperties === 'object') visit(node.additionalProperties, `${where}{}`);
  };
  for (const [name, node] of Object.entries(definitions)) visit(node, name);
  return found;
}

describe('the committed VVP Deployment schema', () => {
  it('records the swagger it was generated from', () => {
    const comment = (schema as unknown as { $comment: string }).$comment;
    assert.match(comment, /generate-deployment-schema\.mjs from appmanager-api-swagger\.json \(Application Manager API 2\.4\.3, sha256 [0-9a-f]{64}\)/);
    assert.equal((schema as unknown as { $ref: string }).$ref, '#/definitions/Deployment');
  });

  it('closes every object that lists its fields', () => {
    const open = objectSchemas().filter(({ node }) => node.properties && node.additionalProperties !== false);
    assert.deepEqual(open.map((o) => o.where), []);
  });

  it('keeps labels, annotations, flinkConfiguration and resources as maps of their value type', () => {
    assert.deepEqual(at('metadata', 'labels').additionalProperties, { type: 'string' });
    assert.deepEqual(at('metadata', 'annotations').additionalProperties, { type: 'string' });
    assert.deepEqual(at('spec', 'template', 'metadata', 'annotations').additionalProperties, { type: 'string' });
    assert.deepEqual(at('spec', 'template', 'spec', 'flinkConfiguration').additionalProperties, { type: 'string' });
    assert.deepEqual(at('spec', 'template', 'spec', 'resources').additionalProperties, { $ref: '#/definitions/ResourceSpec' });
    assert.deepEqual(Object.keys(definitions.ResourceSpec.properties ?? {}), ['cpu', 'memory']);
  });

  it('leaves free the objects the swagger gives no fields (Kubernetes JSON such as affinity)', () => {
    assert.deepEqual(definitions.JsonNode, { title: 'JsonNode', type: 'object' });
    assert.equal(at('spec', 'template', 'spec', 'kubernetes', 'pods', 'affinity').title, 'JsonNode');
  });

  it('has the documented enums of the upgrade strategy, the restore strategy and the desired state', () => {
    assert.deepEqual(at('spec', 'upgradeStrategy', 'kind').enum, ['STATEFUL', 'STATELESS', 'NONE']);
    assert.deepEqual(at('spec', 'restoreStrategy', 'kind').enum, ['LATEST_STATE', 'LATEST_SAVEPOINT', 'NONE']);
    assert.deepEqual(at('spec', 'state').enum, ['RUNNING', 'SUSPENDED', 'CANCELLED']);
  });

  it('has restoreStrategy.allowNonRestoredState as a boolean, which the swagger omits', () => {
    assert.deepEqual(at('spec', 'restoreStrategy', 'allowNonRestoredState'), { type: 'boolean' });
  });

  it('accepts the fields VVP 2.7 adds', () => {
    assert.deepEqual(at('spec', 'jobFailureExpirationTime'), { type: 'string' });
    assert.deepEqual(at('spec', 'template', 'spec', 'kubernetes', 'labels').additionalProperties, { type: 'string' });
  });

  it('describes Kubernetes quantities and int-or-string ports by their JSON form, not the Java classes', () => {
    assert.deepEqual(definitions.Quantity, { title: 'Quantity', type: ['string', 'number'] });
    assert.deepEqual(definitions.IntOrString, { title: 'IntOrString', type: ['integer', 'string'] });
  });

  it('leaves the status free: VVP manages it and ignores it on writes', () => {
    assert.deepEqual(definitions.DeploymentStatus, { title: 'DeploymentStatus', type: 'object' });
  });

  it('requires fields only where a PATCH replaces whole values (array items), never on merged objects', () => {
    assert.equal(definitions.V1PodSpec.required, undefined, 'a partial pod template spec (only volumes) is valid in a PATCH');
    assert.deepEqual(definitions.V1Container.required, ['name']);
    assert.equal(definitions.DeploymentSpec.required, undefined);
  });

  it('keeps only validation keywords (no Kubernetes prose in the bundle)', () => {
    const text = JSON.stringify(schema);
    assert.equal(text.includes('"description"'), false);
  });
});

describe('generate-deployment-schema.mjs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vvp-schema-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** A swagger with the shape of VVP's: Deployment → spec → template, maps, Quantity, arrays of objects. */
  const swagger = {
    swagger: '2.0',
    info: { title: 'Application Manager API', version: '9.9.9' },
    definitions: {
      Deployment: { type: 'object', properties: { spec: { $ref: '#/definitions/DeploymentSpec' }, status: { $ref: '#/definitions/DeploymentStatus' }, kind: { type: 'string', description: 'prose' } } },
      DeploymentSpec: {
        type: 'object',
        required: ['template'],
        properties: {
          upgradeStrategy: { $ref: '#/definitions/DeploymentUpgradeStrategy' },
          restoreStrategy: { $ref: '#/definitions/DeploymentRestoreStrategy' },
          template: { $ref: '#/definitions/Template' },
        },
      },
      DeploymentUpgradeStrategy: { type: 'object', properties: { kind: { type: 'string' } } },
      DeploymentRestoreStrategy: { type: 'object', properties: { kind: { type: 'string' } } },
      DeploymentStatus: { type: 'object', properties: { state: { type: 'string', enum: ['RUNNING'] } } },
      Template: {
        type: 'object',
        properties: {
          labels: { type: 'object', additionalProperties: { type: 'string' } },
          kubernetes: { $ref: '#/definitions/KubernetesOptions' },
          limits: { type: 'object', additionalProperties: { $ref: '#/definitions/Quantity' } },
          containers: { type: 'array', items: { $ref: '#/definitions/Container' } },
          extra: { $ref: '#/definitions/JsonNode' },
        },
      },
      KubernetesOptions: { type: 'object', properties: { pods: { type: 'object', properties: { zeta: { type: 'string' }, alpha: { type: 'string' } } } } },
      Container: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, port: { $ref: '#/definitions/IntOrString' } } },
      Quantity: { type: 'object', properties: { number: { type: 'number' }, format: { type: 'string' } } },
      IntOrString: { type: 'object', properties: { intValue: { type: 'integer' }, strValue: { type: 'string' } } },
      JsonNode: { type: 'object' },
      Unrelated: { type: 'object', properties: { x: { type: 'string' } } },
    },
  };

  function generate(input: unknown): { status: number | null; stderr: string; output: string } {
    const swaggerFile = join(dir, 'swagger.json');
    const outputFile = join(dir, 'schema.json');
    rmSync(outputFile, { force: true });
    writeFileSync(swaggerFile, JSON.stringify(input));
    const run = spawnSync(process.execPath, [join(ROOT, '.ci', 'generate-deployment-schema.mjs'), swaggerFile, outputFile], { encoding: 'utf8' });
    let output = '';
    try {
      output = readFileSync(outputFile, 'utf8');
    } catch {
      // no output: the run failed; the caller checks the status
    }
    return { status: run.status, stderr: run.stderr, output };
  }

  it('applies the rules: closed objects, maps kept, enums and added fields, Quantity and IntOrString by JSON form', () => {
    const { status, stderr, output } = generate(swagger);
    assert.equal(status, 0, stderr);
    const result = JSON.parse(output) as { definitions: Record<string, SchemaNode>; $comment: string };
    const d = result.definitions;
    assert.deepEqual(Object.keys(d), [
      'Container', 'Deployment', 'DeploymentRestoreStrategy', 'DeploymentSpec', 'DeploymentStatus',
      'DeploymentUpgradeStrategy', 'IntOrString', 'JsonNode', 'KubernetesOptions', 'Quantity', 'Template',
    ], 'only what the Deployment reaches, sorted');
    assert.equal(d.Deployment.additionalProperties, false);
    assert.deepEqual(d.Deployment.properties?.kind, { type: 'string' }, 'descriptions dropped');
    assert.deepEqual(d.Template.properties?.labels, { type: 'object', additionalProperties: { type: 'string' } });
    assert.deepEqual(d.Template.properties?.limits, { type: 'object', additionalProperties: { $ref: '#/definitions/Quantity' } });
    assert.deepEqual(d.Quantity, { title: 'Quantity', type: ['string', 'number'] });
    assert.deepEqual(d.IntOrString, { title: 'IntOrString', type: ['integer', 'string'] });
    assert.deepEqual(d.JsonNode, { type: 'object' });
    assert.deepEqual(d.DeploymentStatus, { title: 'DeploymentStatus', type: 'object' });
    assert.deepEqual(d.DeploymentUpgradeStrategy.properties?.kind.enum, ['STATEFUL', 'STATELESS', 'NONE']);
    assert.deepEqual(Object.keys(d.DeploymentRestoreStrategy.properties ?? {}), ['allowNonRestoredState', 'kind']);
    assert.deepEqual(d.DeploymentSpec.properties?.jobFailureExpirationTime, { type: 'string' });
    assert.deepEqual(Object.keys(d.KubernetesOptions.properties ?? {}), ['labels', 'pods']);
    assert.deepEqual(Object.keys(d.KubernetesOptions.properties?.pods.properties ?? {}), ['alpha', 'zeta'], 'nested properties sorted');
    assert.equal(d.KubernetesOptions.properties?.pods.additionalProperties, false, 'nested inline objects closed');
    assert.equal(d.DeploymentSpec.required, undefined, 'a merged object keeps no required fields');
    assert.deepEqual(d.Container.required, ['name'], 'an array item keeps them');
    assert.match(result.$comment, /from swagger\.json \(Application Manager API 9\.9\.9, sha256 [0-9a-f]{64}\)/);
  });

  it('gives the same bytes for the same swagger, whatever the order of its keys', () => {
    const first = generate(swagger).output;
    const reordered = { ...swagger, definitions: Object.fromEntries(Object.entries(swagger.definitions).reverse()) };
    // Same content, different key order: the sha256 in $comment differs, nothing else.
    const second = generate(reordered).output;
    const withoutComment = (text: string): string => text.replace(/"\$comment": "[^"]*"/, '');
    assert.ok(first.length > 0);
    assert.equal(withoutComment(second), withoutComment(first));
    assert.equal(generate(swagger).output, first);
  });

  it('fails clearly when the swagger has no Deployment definition', () => {
    const { status, stderr } = generate({ swagger: '2.0', definitions: {} });
    assert.notEqual(status, 0);
    assert.match(stderr, /no definitions\.Deployment/);
  });

  it('fails when a rule names a definition the Deployment no longer reaches', () => {
    const { KubernetesOptions: _dropped, ...rest } = swagger.definitions;
    const template = { ...rest.Template, properties: { ...rest.Template.properties } } as { properties: Record<string, unknown> };
    delete template.properties.kubernetes;
    const { status, stderr } = generate({ ...swagger, definitions: { ...rest, Template: template } });
    assert.notEqual(status, 0);
    assert.match(stderr, /KubernetesOptions is not reachable/);
  });
});
