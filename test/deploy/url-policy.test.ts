import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManagedClusterClient } from '../../tasks/common/aks/managed-cluster-client';
import { InputError } from '../../tasks/common/errors/errors';
import { checkServiceUrl, isLoopbackHost, type UrlProblemKind } from '../../tasks/common/http/url-policy';
import { InputReader } from '../../tasks/common/inputs/parse';
import { MemoryLogger } from '../support/memory-logger';
import { VvpClient } from '../../tasks/common/vvp/client';
import { readAccessInputs } from '../../tasks/VvpDeploy/VvpDeployV1/access-inputs';
import { checkConnectionUrl } from '../../tasks/common/vvp/service-connection';
import { parseUploadInputs } from '../../tasks/VvpUploadArtifact/VvpUploadArtifactV1/inputs';

const SECRET = 'sv=2024-11-04&sig=Zm9vYmFyc2VjcmV0';

describe('isLoopbackHost', () => {
  const hosts: [string, boolean][] = [
    ['localhost', true],
    ['LOCALHOST', true],
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['127.255.255.255', true],
    ['::1', true],
    ['[::1]', true],
    ['128.0.0.1', false],
    ['127.0.0.256', false],
    ['127.0.0', false],
    ['127.0.0.1.nip.io', false],
    ['localhost.example.com', false],
    ['mylocalhost', false],
    ['[::ffff:7f00:1]', true],
    ['::ffff:127.0.0.1', true],
    ['::ffff:a9fe:a9fe', false],
    ['0.0.0.0', false],
    ['vvp.internal', false],
  ];
  for (const [host, expected] of hosts) {
    it(`${expected ? 'counts' : 'does not count'} ${host} as loopback`, () => assert.equal(isLoopbackHost(host), expected));
  }

  it('agrees with what URL makes of loopback spellings', () => {
    for (const raw of ['http://127.1:8080', 'http://[0:0:0:0:0:0:0:1]:8080', 'http://0x7f.0.0.1', 'http://LocalHost']) {
      assert.equal(isLoopbackHost(new URL(raw).hostname), true, raw);
    }
  });
});

describe('checkServiceUrl', () => {
  const table: { url: string; rules?: { allowInsecureHttp?: boolean; baseUrlOnly?: boolean }; problem?: UrlProblemKind }[] = [
    { url: 'https://vvp.example.com' },
    { url: 'https://vvp.example.com/vvp/' },
    { url: 'http://localhost:8080' },
    { url: 'http://127.0.0.1:8080' },
    { url: 'http://127.1.2.3' },
    { url: 'http://[::1]:8080' },
    { url: 'http://vvp.internal:8080', problem: 'insecure' },
    { url: 'http://vvp.internal:8080', rules: { allowInsecureHttp: true } },
    { url: 'http://10.0.0.5', problem: 'insecure' },
    { url: 'http://10.0.0.5', rules: { allowInsecureHttp: true } },
    { url: 'ftp://vvp.example.com', problem: 'insecure' },
    { url: 'ftp://vvp.example.com', rules: { allowInsecureHttp: true }, problem: 'insecure' },
    { url: 'file:///etc/passwd', problem: 'insecure' },
    { url: 'vvp.example.com', problem: 'invalid' },
    { url: 'https://user:pw@vvp.example.com', problem: 'credentials' },
    { url: 'http://user@127.0.0.1', problem: 'credentials' },
    { url: 'https://vvp.example.com/?x=1' },
    { url: 'https://vvp.example.com/?x=1', rules: { baseUrlOnly: true }, problem: 'notBase' },
    { url: 'https://vvp.example.com/#/app', rules: { baseUrlOnly: true }, problem: 'notBase' },
  ];
  for (const { url, rules, problem } of table) {
    const label = `${url}${rules ? ` with ${JSON.stringify(rules)}` : ''}`;
    it(`${problem ? `rejects ${label} as ${problem}` : `accepts ${label}`}`, () => {
      const checked = checkServiceUrl(url, rules);
      assert.equal(checked.problem?.kind, problem);
      if (!problem) assert.ok(checked.url instanceof URL);
    });
  }

  it('reports the first broken rule: scheme before credentials before query', () => {
    assert.equal(checkServiceUrl('http://u:p@vvp.example.com/?q=1', { baseUrlOnly: true }).problem?.kind, 'insecure');
    assert.equal(checkServiceUrl('https://u:p@vvp.example.com/?q=1', { baseUrlOnly: true }).problem?.kind, 'credentials');
  });

  it('quotes the value with its SAS, token or password masked', () => {
    const cases: [string, string][] = [
      [`http://mirror.example.com/k8s?${SECRET}`, 'http://mirror.example.com/k8s?***'],
      [`https://vvp.example.com/?${SECRET}`, 'https://vvp.example.com/?***'],
      ['https://admin:Zm9vYmFyc2VjcmV0@vvp.example.com', 'https://***@vvp.example.com/'],
      [`not a url?${SECRET}`, 'not a url?***'],
      ['//admin:Zm9vYmFyc2VjcmV0@ vvp', '//***@ vvp'],
    ];
    for (const [raw, quoted] of cases) {
      const checked = checkServiceUrl(raw, { baseUrlOnly: true });
      assert.equal(checked.problem?.value, quoted, raw);
      assert.ok(!checked.problem?.value.includes('Zm9vYmFyc2VjcmV0'));
    }
  });
});

describe('the URL policy where service URLs come in', () => {
  it('kubectlDownloadUrl: plain http to a mirror is refused with its SAS masked', () => {
    const inputs: Record<string, string> = {
      accessMode: 'aksPortForward',
      aksResourceGroup: 'rg',
      aksCluster: 'aks',
      kubectlDownloadUrl: `http://mirror.example.com/k8s?${SECRET}`,
    };
    const r = new InputReader((name) => inputs[name]);
    readAccessInputs(r);
    const problem = r.problems.find((p) => p.input === 'kubectlDownloadUrl');
    assert.equal(problem?.value, 'http://mirror.example.com/k8s?***');
    assert.match(problem?.expected ?? '', /an https:\/\/ URL/);
  });

  it('kubectlDownloadUrl: http to 127.1.2.3 is accepted, https with a query is not', () => {
    const read = (url: string): InputReader => {
      const inputs: Record<string, string> = { accessMode: 'aksPortForward', aksResourceGroup: 'rg', aksCluster: 'aks', kubectlDownloadUrl: url };
      const r = new InputReader((name) => inputs[name]);
      readAccessInputs(r);
      return r;
    };
    assert.deepEqual(read('http://127.1.2.3:8080/k8s').problems, []);
    assert.deepEqual(read(`https://mirror.example.com/?${SECRET}`).problems.map((p) => p.value), ['https://mirror.example.com/?***']);
  });

  it('the VVP service connection URL follows the same rules', () => {
    assert.equal(checkConnectionUrl('http://127.1.2.3:8080', false).url?.host, '127.1.2.3:8080');
    assert.equal(checkConnectionUrl('http://[::1]:8080', false).url?.host, '[::1]:8080');
    assert.equal(checkConnectionUrl(`https://vvp.example.com/?${SECRET}`, false).problem?.value, 'https://vvp.example.com/?***');
  });

  /** What a client refuses its base URL with: a plain Error (the parsers check the inputs first). */
  const refusalOf = (action: () => unknown): string => {
    try {
      action();
    } catch (error) {
      assert.ok(error instanceof Error && !(error instanceof InputError), String(error));
      return error.message;
    }
    return assert.fail('expected the client to refuse the URL');
  };

  it('VvpClient refuses plain http to another host unless allowInsecureHttp is set, and then warns', () => {
    assert.match(refusalOf(() => new VvpClient('http://vvp.internal', 'tok-12345')), /'http:\/\/vvp\.internal': it must be an https:\/\/ URL/);
    const logger = new MemoryLogger();
    new VvpClient('http://vvp.internal', 'tok-12345', { allowInsecureHttp: true, logger });
    assert.match(logger.lines.join('\n'), /warning: vvpUrl http:\/\/vvp\.internal uses plain HTTP/);
    for (const local of ['http://127.1.2.3:8080', 'http://[::1]:8080', 'http://localhost:8080']) {
      const quiet = new MemoryLogger();
      new VvpClient(local, 'tok-12345', { logger: quiet });
      assert.deepEqual(quiet.lines, [], local);
    }
  });

  it('VvpClient refuses credentials and a query in its base URL, masking them', () => {
    const withCredentials = refusalOf(() => new VvpClient('https://admin:hunter2-password@vvp.example.com', 'tok-12345'));
    assert.match(withCredentials, /a URL without credentials/);
    assert.ok(!withCredentials.includes('hunter2-password'));
    const withQuery = refusalOf(() => new VvpClient(`https://vvp.example.com/?${SECRET}`, 'tok-12345'));
    assert.match(withQuery, /'https:\/\/vvp\.example\.com\/\?\*\*\*': it must be the base URL only/);
  });

  it('the ARM client accepts https and loopback http only, with no opt-out', () => {
    const credential = { getToken: async () => null };
    assert.ok(new ManagedClusterClient('https://management.azure.com/', credential));
    assert.ok(new ManagedClusterClient('http://127.0.0.1:9000', credential));
    assert.match(refusalOf(() => new ManagedClusterClient('http://management.example.com', credential)), /'http:\/\/management\.example\.com': it must be an https:\/\/ URL/);
    assert.match(refusalOf(() => new ManagedClusterClient('https://management.azure.com/?x=1', credential)), /\?\*\*\*/);
  });

  it('blobEndpoint: http only to loopback, never a query or credentials', () => {
    const inputs: Record<string, string> = { azureSubscription: 'arm', storageAccount: 'vvpstorage', containerName: 'vvp', artifactPath: '*.jar' };
    const blobEndpoint = (value: string): string | undefined => parseUploadInputs((name) => (name === 'blobEndpoint' ? value : inputs[name]), () => undefined).blobEndpoint;
    assert.equal(blobEndpoint('http://127.1.2.3:10000/devstoreaccount1/'), 'http://127.1.2.3:10000/devstoreaccount1');
    assert.equal(blobEndpoint('http://[::1]:10000'), 'http://[::1]:10000');
    for (const bad of ['http://files.example.com', `https://files.example.com/?${SECRET}`, 'https://u:p@files.example.com', 'ftp://files.example.com']) {
      assert.throws(() => blobEndpoint(bad), (e: unknown) => e instanceof InputError && e.problems.length === 1 && e.problems[0].input === 'blobEndpoint', bad);
    }
  });
});
