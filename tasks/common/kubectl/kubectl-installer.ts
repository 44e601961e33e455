import { formatDuration } from '../logging/duration';
import { createHash, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ServiceError } from '../errors/errors';
import { isRetryableNetworkCode, isRetryableStatus, withRetry } from '../http/retry';
import type { Logger } from '../logging/logger';
import { throwIfAborted } from '../poll/clock';
import { withTimeout } from '../poll/timeout';
import {
  clientVersionOf,
  kubectlDownload,
  kubectlPlatform,
  parseSha256File,
  type KubectlPlatform,
} from './kubectl-release';
import { runCommand } from './run-command';

/**
 * The agent's tool cache as the installer needs it. The pipeline adapter implements it with
 * azure-pipelines-tool-lib, whose downloads use the agent's proxy and certificate settings
 * (typed-rest-client reads them from task-lib), like every Microsoft installer task.
 */
export interface ToolCache {
  /** Folder holding `tool` `version` for `arch` (`<Agent.ToolsDirectory>/<tool>/<version>/<arch>`), or undefined. */
  find(tool: string, version: string, arch: string): string | undefined;
  /**
   * Downloads `url` to `destination` (a new file) and returns its path.
   *
   * @throws Error with `httpStatusCode` for an answer other than 200, or a Node network error.
   */
  download(url: string, destination: string): Promise<string>;
  /** Copies `file` into the cache as `targetName` and marks the version complete; returns the folder. */
  cacheFile(file: string, targetName: string, tool: string, version: string, arch: string): Promise<string>;
}

export interface KubectlInstallOptions {
  /** Exact version without `v`, e.g. `1.34.2` (see normalizeKubectlVersion). */
  version: string;
  /** Release host or mirror, e.g. `https://dl.k8s.io`. */
  downloadBaseUrl: URL;
  toolCache: ToolCache;
  /** Folder for the download before it is verified and cached (`Agent.TempDirectory`). */
  tempDirectory: string;
  logger: Logger;
  abortSignal?: AbortSignal;
  /** Default `process.platform` / `process.arch`; tests pass others. */
  platform?: string;
  arch?: string;
  /** Bound for `kubectl version --client`. Default 30 000. */
  versionCheckTimeoutInMs?: number;
  /**
   * Bound for one download attempt (of up to 3, for the binary and for its `.sha256` each): a
   * mirror that accepts the connection and then stalls must not hang the step. Default 300 000.
   */
  downloadTimeoutInMs?: number;
}

/** The kubectl the step will run. */
interface InstalledKubectl {
  /** Absolute path of the executable inside the tool cache. */
  path: string;
  /** `v1.34.2`, as the binary reports it. */
  version: string;
  /** True when this run downloaded it; false when it came from the tool cache. */
  downloaded: boolean;
}

const TOOL = 'kubectl';

/**
 * Finds `version` of kubectl in the tool cache, or downloads it for this OS and architecture,
 * verifies it against the SHA-256 published next to it, caches it with that digest recorded
 * beside it (`kubectl.sha256`), and returns that exact binary. A cached copy is used only when
 * its SHA-256 still matches the recorded one (the tool cache is shared by every job on the
 * agent) and it reports the requested version (`kubectl version --client`); otherwise it is
 * discarded and downloaded again.
 *
 * @throws ServiceError for a failed or stalled download (404: no such release), a SHA-256
 * mismatch, or a binary that does not run here.
 */
export async function ensureKubectl(options: KubectlInstallOptions): Promise<InstalledKubectl> {
  const target = kubectlPlatform(options.platform ?? process.platform, options.arch ?? process.arch);
  const { logger } = options;
  const cachedDir = options.toolCache.find(TOOL, options.version, target.cacheArch);
  if (cachedDir) {
    const file = path.join(cachedDir, target.executable);
    try {
      // The digest first: a replaced binary must not even run for the version check.
      const digest = await verifyRecordedDigest(file);
      const version = await checkVersion(file, options);
      logger.info(`Using kubectl ${version} from the tool cache: ${file} (SHA-256 ${digest}, as recorded when it was cached)`);
      return { path: file, version, downloaded: false };
    } catch (error) {
      if (options.abortSignal?.aborted) throw error;
      // A half-copied or replaced file in a shared cache should not block every later run.
      logger.warn(`The kubectl in the tool cache (${file}) is unusable, downloading it again: ${(error as Error).message}`);
      discard(cachedDir, logger);
    }
  }
  return download(target, options);
}

/** The file beside a cached binary that records its SHA-256, in `sha256sum` format. */
function digestFileOf(file: string): string {
  return `${file}.sha256`;
}

/**
 * Checks a cached binary against the digest recorded when it was cached; returns the digest.
 *
 * @throws Error saying what does not match (or that nothing was recorded).
 */
async function verifyRecordedDigest(file: string): Promise<string> {
  const record = digestFileOf(file);
  let text: string;
  try {
    text = fs.readFileSync(record, 'utf8');
  } catch {
    throw new Error(`no SHA-256 was recorded for it (${record} is missing)`);
  }
  const recorded = parseSha256File(text);
  if (!recorded) throw new Error(`${record} holds no SHA-256 digest`);
  const actual = await sha256Of(file);
  if (actual !== recorded) throw new Error(`its SHA-256 is ${actual}, but ${recorded} was recorded when it was cached: the file was changed`);
  return actual;
}

/** Removes a cached version folder that failed its checks, so no later run trusts it. */
function discard(cachedDir: string, logger: Logger): void {
  try {
    fs.rmSync(cachedDir, { recursive: true, force: true });
  } catch (error) {
    // The download below replaces the folder anyway; a leftover is checked again next time.
    logger.debug(`Could not remove ${cachedDir}: ${(error as Error).message}`);
  }
}

async function download(target: KubectlPlatform, options: KubectlInstallOptions): Promise<InstalledKubectl> {
  const { logger, toolCache } = options;
  const urls = kubectlDownload(options.downloadBaseUrl, options.version, target);
  const stem = path.join(options.tempDirectory, `kubectl-${randomUUID()}`);
  const binaryFile = `${stem}${target.os === 'windows' ? '.exe' : ''}`;
  const sha256File = `${stem}.sha256`;
  try {
    logger.info(`Downloading kubectl v${options.version} for ${target.os}/${target.arch} from ${urls.binaryUrl}`);
    await fetchFile(toolCache, urls.binaryUrl, binaryFile, options, 'kubectl');
    await fetchFile(toolCache, urls.sha256Url, sha256File, options, 'the SHA-256 of kubectl');
    const expected = parseSha256File(fs.readFileSync(sha256File, 'utf8'));
    if (!expected) {
      throw new ServiceError({
        service: 'kubectl download',
        operation: `reading ${urls.sha256Url}`,
        serviceMessage: 'the file holds no SHA-256 digest (64 hex digits)',
        hint: 'Check kubectlDownloadUrl: a mirror must publish the .sha256 files next to the binaries, as dl.k8s.io does',
      });
    }
    const actual = await sha256Of(binaryFile);
    if (actual !== expected) {
      throw new ServiceError({
        service: 'kubectl download',
        operation: `verifying ${urls.binaryUrl}`,
        serviceMessage: `its SHA-256 is ${actual}, but ${urls.sha256Url} says ${expected}; the file was not used`,
        hint: 'The download is corrupt or was tampered with: check kubectlDownloadUrl and any proxy that rewrites downloads',
      });
    }
    logger.info(`Verified kubectl v${options.version}: SHA-256 ${actual}`);
    // Downloads are written without the executable bit; the cache copy keeps the mode.
    if (target.os !== 'windows') fs.chmodSync(binaryFile, 0o755);
    throwIfAborted(options.abortSignal);
    const dir = await toolCache.cacheFile(binaryFile, target.executable, TOOL, options.version, target.cacheArch);
    const file = path.join(dir, target.executable);
    if (target.os !== 'windows') fs.chmodSync(file, 0o755);
    const cached = await sha256Of(file);
    if (cached !== actual) {
      throw new ServiceError({
        service: 'kubectl download',
        operation: `caching ${urls.binaryUrl}`,
        serviceMessage: `the copy in the tool cache (${file}) has SHA-256 ${cached}, not the verified ${actual}`,
        hint: 'Check the disk and what else writes to Agent.ToolsDirectory',
      });
    }
    // Recorded beside the binary, so every later run can check the cached copy before using it.
    fs.writeFileSync(digestFileOf(file), `${actual}  ${target.executable}\n`, 'utf8');
    const version = await checkVersion(file, options);
    logger.info(`Cached kubectl ${version}: ${file}`);
    return { path: file, version, downloaded: true };
  } finally {
    for (const f of [binaryFile, sha256File]) removeQuietly(f);
  }
}

/**
 * Downloads one file, retrying transient failures and stalled attempts; 4xx are final (a missing
 * release stays missing). The tool cache's download cannot be cancelled: an attempt past its
 * deadline is abandoned, and the next attempt writes to a file of its own.
 */
async function fetchFile(toolCache: ToolCache, url: string, destination: string, options: KubectlInstallOptions, what: string): Promise<void> {
  const signal = options.abortSignal;
  const timeoutInMs = options.downloadTimeoutInMs ?? DEFAULT_DOWNLOAD_TIMEOUT_IN_MS;
  const host = new URL(url).host;
  let attempts = 0;
  try {
    await withRetry(
      async (attempt) => {
        attempts = attempt;
        if (attempt > 1) options.logger.info(`Retrying the download of ${what} (attempt ${attempt})`);
        // A failed or abandoned attempt may leave a partial file (or still be writing one); the
        // tool cache refuses to overwrite a file, so each attempt gets its own.
        const file = `${destination}.${attempt}`;
        await withTimeout(() => toolCache.download(url, file), {
          timeoutInMs,
          abortSignal: signal,
          timeoutError: () =>
            Object.assign(new Error(`the download from ${host} did not finish within ${formatDuration(timeoutInMs)}`), { code: 'ETIMEDOUT' }),
        });
        fs.renameSync(file, destination);
      },
      {
        policy: { maxAttempts: DOWNLOAD_ATTEMPTS, baseDelayInMs: 1000 },
        abortSignal: signal,
        isRetryable: (error) => {
          const status = (error as { httpStatusCode?: number }).httpStatusCode;
          if (status !== undefined) return { retry: isRetryableStatus(status) };
          return { retry: isRetryableNetworkCode((error as NodeJS.ErrnoException).code) };
        },
      },
    );
  } catch (error) {
    if (signal?.aborted) throw error;
    const status = (error as { httpStatusCode?: number }).httpStatusCode;
    throw new ServiceError({
      service: 'kubectl download',
      operation: `downloading ${what} from ${url}`,
      status,
      attempts,
      serviceMessage: status === undefined ? (error as Error).message : undefined,
      hint:
        status === 404
          ? `There is no such file: check kubectlVersion (v${options.version}) and kubectlDownloadUrl`
          : status === undefined
            ? `Check that the agent can reach ${host} (proxy settings, firewall), or set kubectlDownloadUrl to a mirror it can reach`
            : undefined,
      cause: error,
    });
  } finally {
    for (let attempt = 1; attempt <= DOWNLOAD_ATTEMPTS; attempt++) removeQuietly(`${destination}.${attempt}`);
  }
}

const DEFAULT_DOWNLOAD_TIMEOUT_IN_MS = 300_000;
const DOWNLOAD_ATTEMPTS = 3;


/** Deletes a leftover download; one an abandoned attempt still writes to may resist (Windows). */
function removeQuietly(file: string): void {
  try {
    fs.rmSync(file, { force: true });
  } catch {
    // Agent.TempDirectory is emptied by the agent after the job.
  }
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Runs `kubectl version --client --output=json` and checks the reported version, so a binary
 * for another OS/architecture or another release is caught before the tunnel depends on it.
 */
async function checkVersion(file: string, options: KubectlInstallOptions): Promise<string> {
  const wanted = `v${options.version}`;
  let result;
  try {
    result = await runCommand(file, ['version', '--client', '--output=json'], {
      timeoutInMs: options.versionCheckTimeoutInMs ?? 30_000,
      abortSignal: options.abortSignal,
    });
  } catch (error) {
    if (options.abortSignal?.aborted) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new ServiceError({
      service: 'kubectl',
      operation: `running ${file}`,
      serviceMessage: (error as Error).message,
      hint: code === 'ENOEXEC' || code === 'EBADARCH' ? 'The binary is not for this OS or architecture' : undefined,
      cause: error,
    });
  }
  const reported = clientVersionOf(result.stdout);
  if (result.exitCode !== 0 || !reported) {
    const why = result.timedOut ? 'it did not answer in time' : `exit code ${result.exitCode}: ${(result.stderr || result.stdout).trim().slice(0, 500)}`;
    throw new ServiceError({ service: 'kubectl', operation: `running '${file} version --client'`, serviceMessage: why });
  }
  if (reported !== wanted) {
    throw new ServiceError({
      service: 'kubectl',
      operation: `checking ${file}`,
      serviceMessage: `it reports ${reported}, not ${wanted}`,
    });
  }
  return reported;
}
