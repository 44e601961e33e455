import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import Ajv from 'ajv-draft-04';
import { CONTRACTS } from './contract';
import { fromRoot } from './project-paths';

interface TaskInput {
  name: string;
  type: string;
  label?: string;
  defaultValue?: string | boolean;
  required?: boolean;
  helpMarkDown?: string;
  groupName?: string;
  visibleRule?: string;
  aliases?: string[];
  options?: Record<string, string>;
}
interface TaskJson {
  id: string;
  name: string;
  category: string;
  minimumAgentVersion: string;
  instanceNameFormat: string;
  version: { Major: number; Minor: number; Patch: number };
  groups?: { name: string }[];
  inputs: TaskInput[];
  outputVariables: { name: string; description?: string }[];
  restrictions?: { settableVariables?: { allowed?: string[] } };
  releaseNotes?: string;
  dataSourceBindings?: { target: string; endpointId?: string }[];
  execution: Record<string, { target: string }>;
}

const load = (folder: string): TaskJson => JSON.parse(fs.readFileSync(fromRoot(folder, 'task.json'), 'utf8')) as TaskJson;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

for (const contract of CONTRACTS) {
  const task = load(contract.folder);

  test(`${contract.name} task.json is valid against the official task schema`, () => {
    const schema = JSON.parse(fs.readFileSync(fromRoot('test/extension/fixtures/tasks.schema.json'), 'utf8')) as object;
    const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
    const validate = ajv.compile(schema);
    const ok = validate(task);
    assert.ok(ok, JSON.stringify(validate.errors, null, 2));
  });

  test(`${contract.name} has every input of the contract with its type and default`, () => {
    for (const expected of contract.inputs) {
      const input = task.inputs.find((i) => i.name === expected.name);
      assert.ok(input, `input ${expected.name} is missing`);
      assert.equal(input.type, expected.type, `type of ${expected.name}`);
      if (expected.defaultValue !== undefined) {
        assert.equal(String(input.defaultValue ?? ''), expected.defaultValue, `default of ${expected.name}`);
      }
      if (expected.required) assert.equal(input.required, true, `${expected.name} must be required`);
    }
    const extra = task.inputs.map((i) => i.name).filter((n) => !contract.inputs.some((c) => c.name === n));
    assert.deepEqual(extra, [], 'inputs not in the contract (add them to the contract and the docs first)');
  });

  test(`${contract.name} lists exactly the contract's output variables, each described`, () => {
    assert.deepEqual(task.outputVariables.map((o) => o.name).sort(), [...contract.outputs].sort());
    for (const o of task.outputVariables) assert.ok(o.description && o.description.length > 10, `${o.name} description`);
  });

  test(`${contract.name} has release notes for its current minor version`, () => {
    assert.match(task.releaseNotes ?? '', new RegExp(`^${task.version.Major}\\.${task.version.Minor}: `));
  });

  test(`${contract.name} may set exactly its output variables (restrictions.settableVariables)`, () => {
    assert.deepEqual([...(task.restrictions?.settableVariables?.allowed ?? [])].sort(), task.outputVariables.map((o) => o.name).sort());
  });

  test(`${contract.name} gives every input a label and help text`, () => {
    for (const input of task.inputs) {
      assert.ok(input.label && input.label.trim().length > 0, `${input.name} label`);
      assert.ok(input.helpMarkDown && input.helpMarkDown.trim().length > 20, `${input.name} helpMarkDown`);
    }
  });

  test(`${contract.name} visible rules, groups and data sources refer to things that exist`, () => {
    const names = new Set(task.inputs.map((i) => i.name));
    const groups = new Set((task.groups ?? []).map((g) => g.name));
    for (const input of task.inputs) {
      if (input.groupName) assert.ok(groups.has(input.groupName), `${input.name} group ${input.groupName}`);
      if (input.visibleRule) {
        for (const clause of input.visibleRule.split(/\s*(?:&&|\|\|)\s*/)) {
          const m = /^(\w+)\s*(=|!=|NotEndsWith|EndsWith|Contains|NotContains|StartsWith)\s*(.+)$/.exec(clause.trim());
          assert.ok(m, `${input.name}: cannot read visibleRule clause '${clause}'`);
          const [, ref, , value] = m;
          assert.ok(names.has(ref), `${input.name} visibleRule refers to unknown input ${ref}`);
          const target = task.inputs.find((i) => i.name === ref);
          if (target?.options) {
            assert.ok(Object.keys(target.options).includes(value.trim()), `${input.name}: ${ref} has no option ${value}`);
          }
        }
      }
    }
    for (const binding of task.dataSourceBindings ?? []) {
      assert.ok(names.has(binding.target), `data source target ${binding.target}`);
      for (const ref of (JSON.stringify(binding).match(/\$\((\w+)\)/g) ?? []).map((r) => r.slice(2, -1))) {
        assert.ok(names.has(ref), `data source ${binding.target} refers to unknown input ${ref}`);
      }
    }
    for (const ref of task.instanceNameFormat.match(/\$\((\w+)\)/g) ?? []) {
      assert.ok(names.has(ref.slice(2, -1)), `instanceNameFormat refers to ${ref}`);
    }
  });

  test(`${contract.name} runs on Node20_1 and Node24 with the same bundle and needs agent 4.248.0`, () => {
    assert.deepEqual(Object.keys(task.execution).sort(), ['Node20_1', 'Node24']);
    assert.equal(task.execution.Node20_1.target, 'index.js');
    assert.equal(task.execution.Node24.target, 'index.js');
    assert.equal(task.minimumAgentVersion, '4.248.0');
    assert.equal(task.category, 'Deploy');
    assert.equal(task.name, contract.name);
    assert.match(task.id, GUID);
    assert.equal(task.version.Major, Number(/V(\d+)$/.exec(contract.folder)?.[1]), 'major version matches the folder');
  });

  test(`${contract.name} accepts ConnectedServiceNameARM as an alias of azureSubscription`, () => {
    const input = task.inputs.find((i) => i.name === 'azureSubscription');
    assert.deepEqual(input?.aliases, ['ConnectedServiceNameARM']);
  });

  test(`${contract.name} ships a 32x32 PNG icon`, () => {
    const png = fs.readFileSync(fromRoot(contract.folder, 'icon.png'));
    assert.equal(png.subarray(1, 4).toString('ascii'), 'PNG');
    assert.equal(png.readUInt32BE(16), 32);
    assert.equal(png.readUInt32BE(20), 32);
  });
}

test('the two tasks have different GUIDs', () => {
  const ids = CONTRACTS.map((c) => load(c.folder).id.toLowerCase());
  assert.equal(new Set(ids).size, ids.length);
});

test('the extension icon is a 128x128 PNG and the manifest contributes both tasks and the VVP connection type', () => {
  const png = fs.readFileSync(fromRoot('images/extension-icon.png'));
  assert.equal(png.readUInt32BE(16), 128);
  assert.equal(png.readUInt32BE(20), 128);
  const manifest = JSON.parse(fs.readFileSync(fromRoot('vss-extension.json'), 'utf8')) as {
    version: string;
    contributions: { type: string; properties: { name: string } }[];
  };
  assert.match(manifest.version, /^\d+\.\d+\.\d+$/);
  const tasks = manifest.contributions.filter((c) => c.type === 'ms.vss-distributed-task.task').map((c) => c.properties.name);
  assert.deepEqual(tasks.sort(), ['tasks/VvpDeploy', 'tasks/VvpUploadArtifact']);
  const endpoint = manifest.contributions.find((c) => c.type === 'ms.vss-endpoint.service-endpoint-type');
  assert.equal(endpoint?.properties.name, 'VervericaPlatform');
});
