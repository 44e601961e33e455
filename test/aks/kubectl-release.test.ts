import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError } from '../../tasks/common/errors/errors';
import {
  clientVersionOf,
  kubectlDownload,
  kubectlPlatform,
  normalizeKubectlVersion,
  parseSha256File,
} from '../../tasks/common/kubectl/kubectl-release';

describe('kubectl release naming', () => {
  const table: [platform: string, arch: string, url: string, executable: string][] = [
    ['linux', 'x64', 'https://dl.k8s.io/release/v1.34.2/bin/linux/amd64/kubectl', 'kubectl'],
    ['linux', 'arm64', 'https://dl.k8s.io/release/v1.34.2/bin/linux/arm64/kubectl', 'kubectl'],
    ['darwin', 'x64', 'https://dl.k8s.io/release/v1.34.2/bin/darwin/amd64/kubectl', 'kubectl'],
    ['darwin', 'arm64', 'https://dl.k8s.io/release/v1.34.2/bin/darwin/arm64/kubectl', 'kubectl'],
    ['win32', 'x64', 'https://dl.k8s.io/release/v1.34.2/bin/windows/amd64/kubectl.exe', 'kubectl.exe'],
    ['win32', 'arm64', 'https://dl.k8s.io/release/v1.34.2/bin/windows/arm64/kubectl.exe', 'kubectl.exe'],
  ];
  for (const [platform, arch, url, executable] of table) {
    it(`downloads ${executable} for ${platform}/${arch} from ${url.replace('https://dl.k8s.io', '')}, with its .sha256 next to it`, () => {
      const target = kubectlPlatform(platform, arch);
      assert.equal(target.executable, executable);
      assert.equal(target.cacheArch, arch, 'the tool cache folder uses the Node arch, like other installer tasks');
      assert.deepEqual(kubectlDownload(new URL('https://dl.k8s.io'), '1.34.2', target), { binaryUrl: url, sha256Url: `${url}.sha256` });
    });
  }

  it('keeps the path of a mirror and ignores a trailing slash', () => {
    const target = kubectlPlatform('linux', 'x64');
    assert.equal(
      kubectlDownload('https://mirror.example.com/k8s/', '1.33.0', target).binaryUrl,
      'https://mirror.example.com/k8s/release/v1.33.0/bin/linux/amd64/kubectl',
    );
  });

  it('refuses platforms kubectl is not released for, saying which agents work', () => {
    for (const [platform, arch] of [['freebsd', 'x64'], ['darwin', 'ia32'], ['win32', 'arm'], ['aix', 'ppc64']]) {
      assert.throws(() => kubectlPlatform(platform!, arch!), (e: unknown) => e instanceof InputError && /Linux, macOS or Windows/.test(e.message));
    }
    assert.equal(kubectlPlatform('linux', 's390x').arch, 's390x');
    assert.equal(kubectlPlatform('linux', 'ppc64').arch, 'ppc64le');
  });

  it('accepts exact versions with or without v, and nothing vaguer', () => {
    assert.equal(normalizeKubectlVersion('1.34.2'), '1.34.2');
    assert.equal(normalizeKubectlVersion(' v1.34.2 '), '1.34.2');
    assert.equal(normalizeKubectlVersion('v1.35.0-rc.1'), '1.35.0-rc.1');
    for (const bad of ['1.34', 'latest', '1.34.x', 'v1', '', '1.34.2; rm -rf /']) assert.equal(normalizeKubectlVersion(bad), undefined, bad);
  });

  it('reads the digest of a dl.k8s.io .sha256 file and of sha256sum output', () => {
    const digest = 'A'.repeat(64);
    assert.equal(parseSha256File(digest), 'a'.repeat(64));
    assert.equal(parseSha256File(`${'b'.repeat(64)}  kubectl\n`), 'b'.repeat(64));
    assert.equal(parseSha256File('<html>not found</html>'), undefined);
    assert.equal(parseSha256File(''), undefined);
  });

  it('reads the client version from kubectl version --client --output=json', () => {
    assert.equal(clientVersionOf('{"clientVersion":{"gitVersion":"v1.34.2"},"kustomizeVersion":"v5.7.1"}'), 'v1.34.2');
    assert.equal(clientVersionOf('Client Version: v1.34.2'), undefined);
  });
});
