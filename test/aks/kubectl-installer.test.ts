import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ServiceError } from '../../tasks/common/errors/errors';
import { ensureKubectl, type KubectlInstallOptions, type ToolCache } from '../../tasks/common/kubectl/kubectl-installer';
import { kubectlDownload, kubectlPlatform } from '../../tasks/common/kubectl/kubectl-release';
import { MemoryLogger } from '../support/memory-logger';
import { setBehaviour, writeFakeKubectl } from './fake-kubectl';

const skip = process.platform === 'win32' ? 'the fake kubectl is a shebang script' : false;

/** A tool cache with tool-lib's layout (`<root>/<tool>/<version>/<arch>` + `.complete`) and files served from a map. */
class FakeToolCache implements ToolCache {
  readonly downloads: string[] = [];
  constructor(
    readonly root: string,
    readonly files: Map<string, Buffer | number>,
  ) {}
  find(tool: string, version: string, arch: string): string | undefined {
    const dir = path.join(this.root, tool, version, arch);
    return fs.existsSync(`${dir}.complete`) ? dir : undefined;
  }
  async download(url: string, destination: string): Promise<string> {
    this.downloads.push(url);
    const content = this.files.get(url);
    if (content === undefined || typeof content === 'number') {
      throw Object.assign(new Error(`Unexpected HTTP response: ${content ?? 404}`), { httpStatusCode: content ?? 404 });
    }
    if (fs.existsSync(destination)) throw new Error('Destination file path already exists');
    fs.writeFileSync(destination, content);
    return destination;
  }
  async cacheFile(file: string, targetName: string, tool: string, version: string, arch: string): Promise<string> {
    const dir = path.join(this.root, tool, version, arch);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    fs.copyFileSync(file, path.join(dir, targetName));
    fs.writeFileSync(`${dir}.complete`, '');
    return dir;
  }
}

describe('kubectl from the tool cache', { skip }, () => {
  let work: string;
  let binary: Buffer;
  let cache: FakeToolCache;
  const target = kubectlPlatform(process.platform, process.arch);
  const base = new URL('https://dl.k8s.io');
  const urls = (version: string) => kubectlDownload(base, version, target);
  const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
  const install = (version: string, logger = new MemoryLogger(), more: Partial<KubectlInstallOptions> = {}) =>
    ensureKubectl({ version, downloadBaseUrl: base, toolCache: cache, tempDirectory: path.join(work, 'temp'), logger, ...more });
  /** Makes the first `count` downloads (or all) accept the request and never finish, like a stalled mirror. */
  const stall = (count = Infinity): void => {
    let stalled = 0;
    const download = cache.download.bind(cache);
    cache.download = async (url, destination) => {
      if (stalled < count) {
        stalled++;
        cache.downloads.push(url);
        return new Promise<string>(() => undefined);
      }
      return download(url, destination);
    };
  };
  const cachedCopy = (): string => path.join(cache.root, 'kubectl', '1.34.2', process.arch, target.executable);

  before(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'kubectl-installer-'));
    fs.mkdirSync(path.join(work, 'temp'));
    const behaviour = path.join(work, 'behaviour.json');
    setBehaviour(behaviour, { version: 'v1.34.2', target: '127.0.0.1:1', services: [], mode: 'ok', recordDir: path.join(work, 'records') });
    binary = writeFakeKubectl(path.join(work, 'src', 'kubectl'), behaviour);
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));
  beforeEach(() => {
    const files = new Map<string, Buffer | number>([
      [urls('1.34.2').binaryUrl, binary],
      [urls('1.34.2').sha256Url, Buffer.from(sha(binary))],
      [urls('1.33.9').binaryUrl, Buffer.concat([binary, Buffer.from('// tampered\n')])],
      [urls('1.33.9').sha256Url, Buffer.from(sha(binary))],
    ]);
    cache = new FakeToolCache(fs.mkdtempSync(path.join(work, 'tools-')), files);
  });

  it('downloads the release for this OS and architecture, verifies its SHA-256, caches it and runs that copy', async () => {
    const logger = new MemoryLogger();
    const k = await install('1.34.2', logger);
    assert.deepEqual(cache.downloads, [urls('1.34.2').binaryUrl, urls('1.34.2').sha256Url]);
    assert.equal(k.path, path.join(cache.root, 'kubectl', '1.34.2', process.arch, target.executable));
    assert.equal(k.version, 'v1.34.2');
    assert.equal(k.downloaded, true);
    assert.equal(fs.statSync(k.path).mode & 0o111, 0o111, 'executable');
    assert.match(logger.lines.join('\n'), new RegExp(`Verified kubectl v1\\.34\\.2: SHA-256 ${sha(binary)}`));
    assert.deepEqual(fs.readdirSync(path.join(work, 'temp')), [], 'the downloads are removed from the temp folder');
  });

  it('uses the cached copy on the next run without downloading', async () => {
    await install('1.34.2');
    cache.downloads.length = 0;
    const logger = new MemoryLogger();
    const k = await install('1.34.2', logger);
    assert.deepEqual(cache.downloads, []);
    assert.equal(k.downloaded, false);
    assert.match(logger.lines.join('\n'), /Using kubectl v1\.34\.2 from the tool cache/);
  });

  it('refuses a binary whose SHA-256 differs from the published one and caches nothing', async () => {
    await assert.rejects(install('1.33.9'), (e: unknown) => {
      assert.ok(e instanceof ServiceError);
      assert.match(e.message, /its SHA-256 is [0-9a-f]{64}, but .*kubectl\.sha256 says [0-9a-f]{64}; the file was not used\. The download is corrupt or was tampered with/);
      return true;
    });
    assert.equal(cache.find('kubectl', '1.33.9', process.arch), undefined);
    assert.deepEqual(fs.readdirSync(path.join(work, 'temp')), []);
  });

  it('names the version and the mirror when the release does not exist (404 is not retried)', async () => {
    await assert.rejects(install('1.99.0'), /kubectl download: downloading kubectl from https:\/\/dl\.k8s\.io\/release\/v1\.99\.0\/.* failed with HTTP 404\. There is no such file: check kubectlVersion \(v1\.99\.0\) and kubectlDownloadUrl/);
    assert.equal(cache.downloads.length, 1);
  });

  it('retries a 503 and then succeeds', async () => {
    let first = true;
    const download = cache.download.bind(cache);
    cache.download = async (url, destination) => {
      if (first) {
        first = false;
        cache.downloads.push(url);
        throw Object.assign(new Error('Unexpected HTTP response: 503'), { httpStatusCode: 503 });
      }
      return download(url, destination);
    };
    const k = await install('1.34.2');
    assert.equal(k.downloaded, true);
    assert.equal(cache.downloads.filter((u) => u === urls('1.34.2').binaryUrl).length, 2);
  });

  it('replaces a cached copy that does not run or reports another version', async () => {
    const dir = path.join(cache.root, 'kubectl', '1.34.2', process.arch);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, target.executable), 'not a program', { mode: 0o755 });
    fs.writeFileSync(`${dir}.complete`, '');
    const logger = new MemoryLogger();
    const k = await install('1.34.2', logger);
    assert.equal(k.downloaded, true);
    assert.match(logger.lines.join('\n'), /warning: The kubectl in the tool cache .* is unusable, downloading it again/);
  });

  it('records the verified SHA-256 beside the binary in the tool cache', async () => {
    const k = await install('1.34.2');
    assert.equal(fs.readFileSync(`${k.path}.sha256`, 'utf8'), `${sha(binary)}  ${target.executable}\n`);
  });

  it('checks the cached copy against the recorded SHA-256 before using it', async () => {
    await install('1.34.2');
    cache.downloads.length = 0;
    const logger = new MemoryLogger();
    await install('1.34.2', logger);
    assert.deepEqual(cache.downloads, []);
    assert.match(logger.lines.join('\n'), new RegExp(`Using kubectl v1\\.34\\.2 from the tool cache: .* \\(SHA-256 ${sha(binary)}, as recorded when it was cached\\)`));
  });

  it('discards a cached copy that was changed after it was cached, and downloads it again', async () => {
    await install('1.34.2');
    // Still a working kubectl that reports the right version: only the digest gives it away.
    fs.appendFileSync(cachedCopy(), '// replaced in the shared tool cache\n');
    cache.downloads.length = 0;
    const logger = new MemoryLogger();
    const k = await install('1.34.2', logger);
    assert.equal(k.downloaded, true);
    assert.deepEqual(cache.downloads, [urls('1.34.2').binaryUrl, urls('1.34.2').sha256Url]);
    assert.match(logger.lines.join('\n'), /warning: The kubectl in the tool cache .* is unusable, downloading it again: its SHA-256 is [0-9a-f]{64}, but [0-9a-f]{64} was recorded when it was cached/);
    assert.deepEqual(fs.readFileSync(k.path), binary, 'the cache holds the published binary again');
  });

  it('does not trust a cached copy without a recorded SHA-256', async () => {
    const dir = path.dirname(cachedCopy());
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(cachedCopy(), binary, { mode: 0o755 });
    fs.writeFileSync(`${dir}.complete`, '');
    const logger = new MemoryLogger();
    const k = await install('1.34.2', logger);
    assert.equal(k.downloaded, true);
    assert.match(logger.lines.join('\n'), /unusable, downloading it again: no SHA-256 was recorded for it/);
    assert.equal(fs.readFileSync(`${k.path}.sha256`, 'utf8').split(' ')[0], sha(binary));
  });

  it('abandons a download attempt that stalls past its bound and tries again', { timeout: 30_000 }, async () => {
    stall(1);
    const logger = new MemoryLogger();
    const k = await install('1.34.2', logger, { downloadTimeoutInMs: 300 });
    assert.equal(k.downloaded, true);
    assert.equal(cache.downloads.filter((u) => u === urls('1.34.2').binaryUrl).length, 2);
    assert.match(logger.lines.join('\n'), /Retrying the download of kubectl \(attempt 2\)/);
    assert.deepEqual(fs.readdirSync(path.join(work, 'temp')), [], 'no partial download is left behind');
  });

  it('fails naming the mirror when every download attempt stalls', { timeout: 30_000 }, async () => {
    stall();
    await assert.rejects(install('1.34.2', new MemoryLogger(), { downloadTimeoutInMs: 200 }), (e: unknown) => {
      assert.ok(e instanceof ServiceError);
      assert.match(
        e.message,
        /^kubectl download: downloading kubectl from https:\/\/dl\.k8s\.io\/.* failed after 3 attempts: the download from dl\.k8s\.io did not finish within 0.2 s\. Check that the agent can reach dl\.k8s\.io/,
      );
      return true;
    });
    assert.equal(cache.find('kubectl', '1.34.2', process.arch), undefined);
  });
});
