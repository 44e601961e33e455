/**
 * The pure pieces the reliability fixes rest on, table-tested: secret masking (also before a
 * message is shortened), URL inputs quoted without their secrets, cloud endpoint checks, the
 * try timeout, the "replaced by another change" verdict, and the false-success check itself.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cloudProblems, resolveCloud } from '../../tasks/common/azure/cloud';
import { missingConnectionFields, type AzureRmConnection } from '../../tasks/common/azure/credential';
import { tryTimeoutPolicy } from '../../tasks/common/azure/request-timeout';
import { maskAndShorten } from '../../tasks/common/errors/errors';
import { maskUrlSecrets } from '../../tasks/common/inputs/parse';
import { addMaskedSecret, maskSecrets } from '../../tasks/common/logging/secret-mask';
import { classifyUpgrade } from '../../tasks/common/vvp/classify';
import { falseSuccessReason } from './false-success';
import { jarFor } from './bench';

describe('pure checks behind the fixes', () => {
  const SECRET = 'pure-check-secret/with+odd=chars~"quoted"';
  addMaskedSecret(SECRET);

  const forms: [string, string][] = [
    ['verbatim', SECRET],
    ['URL-encoded (a form body)', encodeURIComponent(SECRET)],
    ['JSON-escaped', JSON.stringify(SECRET).slice(1, -1)],
    ['base64', Buffer.from(SECRET).toString('base64').replace(/=+$/, '')],
  ];
  for (const [form, text] of forms) {
    it(`masks a registered secret echoed ${form}`, () => {
      assert.equal(maskSecrets(`before ${text} after`), 'before *** after');
    });
  }

  it('masks a secret before shortening a message, so no half of it survives the cut', () => {
    const body = `${'x'.repeat(90)}Bearer ${SECRET}${'y'.repeat(50)}`;
    const short = maskAndShorten(body, 100);
    assert.ok(!short.includes(SECRET.slice(0, 4)), short);
    assert.match(short, /^x{90}Bearer \*\*\*/);
  });

  const urls: [string, string][] = [
    ['https://vvp.example.com', 'https://vvp.example.com'],
    ['https://admin:pw@vvp.example.com/', 'https://***@vvp.example.com/'],
    ['https://acct.blob.core.windows.net/?sv=2024&sig=abc', 'https://acct.blob.core.windows.net/?***'],
    ['not a url ?sig=abc', 'not a url ?sig=abc'],
  ];
  for (const [raw, shown] of urls) {
    it(`quotes the URL input '${raw}' as '${shown}'`, () => {
      assert.equal(maskUrlSecrets(raw), shown);
    });
  }

  const clouds: [string, Parameters<typeof resolveCloud>[0], RegExp | undefined][] = [
    ['the public cloud', {}, undefined],
    ['a sovereign cloud', { environment: 'AzureChinaCloud' }, undefined],
    ['an authority that is no URL', { authorityUrl: 'login microsoftonline com' }, /authority .* is not an https URL/],
    ['an http authority', { authorityUrl: 'http://login.example.com/' }, /is not an https URL/],
    ['a storage suffix with a space', { storageSuffix: 'core windows.net' }, /storage suffix 'core windows.net' is not a DNS suffix/],
    ['a Key Vault suffix that is a URL', { keyVaultSuffix: 'https://vault.azure.net' }, /Key Vault suffix .* is not a DNS suffix/],
  ];
  for (const [what, data, problem] of clouds) {
    it(`${problem ? 'rejects' : 'accepts'} a connection with ${what}`, () => {
      const found = cloudProblems(resolveCloud(data));
      if (problem) assert.match(found.join('; '), problem);
      else assert.deepEqual(found, []);
    });
  }

  const cloud = resolveCloud({});
  const connections: [string, AzureRmConnection, string[]][] = [
    ['a complete secret service principal', { name: 'c', cloud, scheme: 'ServicePrincipal', authenticationType: 'spnKey', tenantId: 't', clientId: 'id', clientSecret: 's' }, []],
    ['a secret service principal without its key', { name: 'c', cloud, scheme: 'ServicePrincipal', authenticationType: 'spnKey', tenantId: 't', clientId: 'id', clientSecret: '' }, ['clientSecret']],
    ['a certificate service principal without tenant and certificate', { name: 'c', cloud, scheme: 'ServicePrincipal', authenticationType: 'spnCertificate', tenantId: ' ', clientId: 'id', certificatePem: '' }, ['tenantId', 'certificatePem']],
    ['a federated connection without the OIDC request URI', { name: 'c', cloud, scheme: 'WorkloadIdentityFederation', tenantId: 't', clientId: 'id', oidcRequestUri: '', accessToken: 'tok' }, ['oidcRequestUri']],
    ['a system-assigned managed identity (needs nothing)', { name: 'c', cloud, scheme: 'ManagedServiceIdentity', tenantId: '' }, []],
  ];
  for (const [what, connection, missing] of connections) {
    it(`finds ${missing.length ? missing.join(', ') : 'nothing'} missing in ${what}`, () => {
      assert.deepEqual(missingConnectionFields(connection), missing);
    });
  }

  it('the try timeout fails a silent try as ETIMEDOUT naming the host', async () => {
    const policy = tryTimeoutPolicy(50);
    const request: { url: string; abortSignal?: AbortSignal } = { url: 'https://my-keyvault.vault.azure.net/secrets/x?api-version=7.5' };
    const never = (r: { abortSignal?: AbortSignal }): Promise<never> =>
      new Promise((_resolve, reject) => r.abortSignal?.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' }))));
    await assert.rejects(policy.sendRequest(request, never), (e: Error & { code?: string }) => {
      assert.equal(e.name, 'RestError');
      assert.equal(e.code, 'ETIMEDOUT');
      assert.equal(e.message, 'no answer from my-keyvault.vault.azure.net within 0.1 s');
      return true;
    });
  });

  it('the try timeout reports a cancelled request as cancelled, not as a timeout', async () => {
    const policy = tryTimeoutPolicy(10_000);
    const controller = new AbortController();
    const request = { url: 'https://login.microsoftonline.com/t/oauth2/v2.0/token', abortSignal: controller.signal };
    const pending = policy.sendRequest(request, (r) => new Promise((_resolve, reject) => {
      r.abortSignal?.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' })));
    }));
    controller.abort();
    await assert.rejects(pending, (e: Error) => e.name === 'AbortError');
    assert.equal(request.abortSignal, controller.signal, "the caller's signal is restored for the retry policy");
  });

  it('the wait fails at once when another change replaced the jarUri, never succeeding for a jarUri that will not stay', () => {
    const expectation = { jarUri: jarFor('mine'), baselineJobId: 'old', baselineState: 'RUNNING', requireNewJob: true };
    const cases = [
      { specJarUri: jarFor('theirs'), job: { id: 'new', state: 'STARTED', jarUri: jarFor('theirs') }, verdict: 'failed' },
      { specJarUri: jarFor('theirs'), job: { id: 'new', state: 'STARTED', jarUri: jarFor('mine') }, verdict: 'failed' },
      { specJarUri: jarFor('mine'), job: { id: 'new', state: 'STARTED', jarUri: jarFor('mine') }, verdict: 'succeeded' },
      { specJarUri: undefined, job: { id: 'new', state: 'STARTED', jarUri: jarFor('mine') }, verdict: 'succeeded' },
    ];
    for (const c of cases) {
      const v = classifyUpgrade({ state: 'RUNNING', desiredState: 'RUNNING', specJarUri: c.specJarUri, runningJobId: 'new', runningJob: c.job, changeObserved: true }, expectation);
      assert.equal(v.status, c.verdict, JSON.stringify(c));
    }
  });

  it('the false-success check rejects a success whose job, jarUri or template does not match the truth', () => {
    const truth = {
      namespace: 'default', deploymentId: 'd', name: 'x', resourceVersion: 3, specState: 'RUNNING', statusState: 'RUNNING',
      specJarUri: jarFor('mine'), statusJobId: 'j2', runningJob: { id: 'j2', jarUri: jarFor('mine'), savepointLocation: null },
      transitionInProgress: false, jobs: [], savepoints: [], events: [], pendingOutcomes: [],
    };
    const ok = { result: 'Succeeded' as const, outputs: { jobId: 'j2', jarUri: jarFor('mine') } };
    assert.equal(falseSuccessReason(ok, truth, jarFor('mine')), undefined);
    assert.equal(falseSuccessReason({ result: 'Failed', outputs: {} }, { ...truth, runningJob: null }, jarFor('mine')), undefined);
    assert.match(falseSuccessReason(ok, { ...truth, runningJob: null }, jarFor('mine')) ?? '', /no job is running/);
    assert.match(falseSuccessReason(ok, { ...truth, runningJob: { id: 'j2', jarUri: jarFor('old'), savepointLocation: null } }, jarFor('mine')) ?? '', /runs .*commit=old/);
    assert.match(falseSuccessReason(ok, { ...truth, specJarUri: jarFor('theirs') }, jarFor('mine')) ?? '', /template holds/);
    assert.match(falseSuccessReason({ ...ok, outputs: { jobId: 'j1', jarUri: jarFor('mine') } }, truth, jarFor('mine')) ?? '', /reports job j1/);
  });
});
