import { createHash, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ServiceError } from '../errors/errors';
import { isRetryableNetworkCode, isRetryableStatus, RetryExhaustedError, withRetry } from '../http/retry';
import type { Logger } from '../logging/logger';
import { abortReason, throwIfAborted } from '../poll/clock';
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
}

/** The kubectl the step will run. */
export interface InstalledKubectl {
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
 * verifies it against the SHA-256 published next to it, caches it, and returns that exact
 * binary. Either way the binary must run and report the requested version
 * (`kubectl version --client`); a cached copy that does not is replaced by a fresh download.
 *
 * @throws ServiceError for a failed download (404: no such release), a SHA-256 mismatch, or a
 * binary that does not run here.
 */
export async function ensureKubectl(options: KubectlInstallOptions): Promise<InstalledKubectl> {
  const target = kubectlPlatform(options.platform ?? process.platform, options.arch ?? process.arch);
  const { logger } = options;
  const cachedDir = options.toolCache.find(TOOL, options.version, target.cacheArch);
  if (cachedDir) {
    const file = path.join(cachedDir, target.executable);
    try {
      const version = await checkVersion(file, options);
      logger.info(`Using kubectl ${version} from the tool cache: ${file}`);
      return { path: file, version, downloaded: false };
    } catch (error) {
      if (options.abortSignal?.aborted) throw error;
      // A half-copied or replaced file in a shared cache should not block every later run.
      logger.warn(`The kubectl in the tool cache (${file}) is unusable, downloading it again: ${(error as Error).message}`);
    }
  }
  return download(target, options);
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
    const version = await checkVersion(file, options);
    logger.info(`Cached kubectl ${version}: ${file}`);
    return { path: file, version, downloaded: true };
  } finally {
    for (const f of [binaryFile, sha256File]) fs.rmSync(f, { force: true });
  }
}

/** Downloads one file, retrying transient failures; 4xx are final (a missing release stays missing). */
async function fetchFile(toolCache: ToolCache, url: string, destination: string, options: KubectlInstallOptions, what: string): Promise<void> {
  const signal = options.abortSignal;
  try {
    await withRetry(
      async (attempt) => {
        // A failed attempt may leave a partial file; the tool cache refuses to overwrite one.
        fs.rmSync(destination, { force: true });
        if (attempt > 1) options.logger.info(`Retrying the download of ${what} (attempt ${attempt})`);
        await abortable(toolCache.download(url, destination), signal);
      },
      {
        policy: { maxAttempts: 3, baseDelayInMs: 1000 },
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
    const last = error instanceof RetryExhaustedError ? error.lastError : error;
    const attempts = error instanceof RetryExhaustedError ? error.attempts : 1;
    const status = (last as { httpStatusCode?: number }).httpStatusCode;
    const host = new URL(url).host;
    throw new ServiceError({
      service: 'kubectl download',
      operation: `downloading ${what} from ${url}`,
      status,
      attempts,
      serviceMessage: status === undefined ? (last as Error).message : undefined,
      hint:
        status === 404
          ? `There is no such file: check kubectlVersion (v${options.version}) and kubectlDownloadUrl`
          : status === undefined
            ? `Check that the agent can reach ${host} (proxy settings, firewall), or set kubectlDownloadUrl to a mirror it can reach`
            : undefined,
      cause: last,
    });
  }
}

/** Rejects with the abort reason as soon as `signal` fires; the download itself cannot be cancelled. */
function abortable<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
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
