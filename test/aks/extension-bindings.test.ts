import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../rig/bundles';

interface DataSource {
  name: string;
  endpointUrl: string;
  resultSelector?: string;
}

const taskJson = JSON.parse(fs.readFileSync(path.join(ROOT, 'tasks/VvpDeploy/VvpDeployV1/task.json'), 'utf8')) as {
  inputs: { name: string; type: string; properties?: Record<string, string>; visibleRule?: string }[];
  dataSourceBindings: { target: string; endpointId?: string; dataSourceName?: string; parameters?: Record<string, string> }[];
};
const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'vss-extension.json'), 'utf8')) as {
  contributions: { type: string; properties: { name: string; dataSources?: DataSource[]; authenticationSchemes?: { headers?: { name: string; value: string }[] }[] } }[];
};
const endpointType = manifest.contributions.find((c) => c.type === 'ms.vss-endpoint.service-endpoint-type')!.properties;

test('the classic editor offers the deployments of the namespace from the Ververica Platform connection', () => {
  const input = taskJson.inputs.find((i) => i.name === 'deployment');
  assert.equal(input?.type, 'pickList');
  assert.equal(input?.properties?.EditableOptions, 'True', 'a name or id can still be typed');
  const binding = taskJson.dataSourceBindings.find((b) => b.target === 'deployment');
  assert.deepEqual(binding, { target: 'deployment', endpointId: '$(vvpServiceConnection)', dataSourceName: 'VvpDeployments', parameters: { namespace: '$(namespace)' } });
  const source = endpointType.dataSources?.find((d) => d.name === 'VvpDeployments');
  assert.equal(source?.endpointUrl, '{{{endpoint.url}}}/api/v1/namespaces/{{{namespace}}}/deployments');
  assert.ok(endpointType.dataSources?.some((d) => d.name === 'TestConnection'), 'the connection can be verified');
});

test('the connection sends its API token as a bearer token and the Key Vault inputs hide without Key Vault', () => {
  assert.deepEqual(endpointType.authenticationSchemes?.[0]?.headers, [{ name: 'Authorization', value: 'Bearer {{{endpoint.apitoken}}}' }]);
  for (const name of ['keyVaultName', 'tokenSecretName']) {
    assert.equal(taskJson.inputs.find((i) => i.name === name)?.visibleRule, 'tokenSource = keyVault', name);
  }
  assert.equal(taskJson.inputs.find((i) => i.name === 'vvpServiceConnection')?.visibleRule, 'tokenSource = serviceConnection');
});
