/**
 * Runs `uploadArtifact` against the Azurite fixture in a child process, as another user when
 * this process is root (root reads any file, so a file root cannot read does not exist): for
 * the unreadable-file test. The child prints one JSON line: the outcome or the error.
 *
 * Run as a script with `UPLOAD_AS_OTHER_USER` = JSON `{ workDir, artifactPath, accountUrl,
 * accountName, accountKey, caFile }`.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as https from 'node:https';
import { StorageSharedKeyCredential } from '@azure/storage-blob';
import { findMatch } from 'azure-pipelines-task-lib/task';
import { MemoryLogger } from '../support/memory-logger';
import { parseUploadInputs } from '../../tasks/VvpUploadArtifact/VvpUploadArtifactV1/inputs';
import { uploadArtifact } from '../../tasks/VvpUploadArtifact/VvpUploadArtifactV1/upload-artifact';

export interface OtherUserUpload {
  workDir: string;
  artifactPath: string;
  accountUrl: string;
  accountName: string;
  accountKey: string;
  caFile: string;
}

export type OtherUserResult = { ok: true; message: string } | { ok: false; name: string; message: string };

/** The uid/gid the child runs as: `nobody` when this process is root, else this process's own. */
export function otherUser(): { uid: number; gid: number } | undefined {
  return process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : undefined;
}

/** Runs the upload in the child, whose working directory is `cwd` (task-lib writes its `.taskkey` there). */
export function uploadAsOtherUser(job: OtherUserUpload, cwd: string): Promise<OtherUserResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [__filename], {
      ...otherUser(),
      cwd,
      env: { PATH: process.env.PATH, UPLOAD_AS_OTHER_USER: JSON.stringify(job) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(line) as OtherUserResult);
      } catch {
        reject(new Error(`child exited ${code} without a result: ${out}\n${err}`));
      }
    });
  });
}

async function main(job: OtherUserUpload): Promise<OtherUserResult> {
  const inputs: Record<string, string> = {
    azureSubscription: 'arm',
    storageAccount: job.accountName,
    containerName: 'vvp',
    artifactPath: job.artifactPath,
    blobEndpoint: job.accountUrl,
  };
  const config = parseUploadInputs(
    (name) => inputs[name],
    (name) => (name === 'System.DefaultWorkingDirectory' ? job.workDir : undefined),
  );
  const agent = new https.Agent({ ca: fs.readFileSync(job.caFile) });
  try {
    const outcome = await uploadArtifact(config, {
      credential: new StorageSharedKeyCredential(job.accountName, job.accountKey),
      storageSuffix: 'core.windows.net',
      agentFor: () => agent,
      findFiles: (root, patterns) => findMatch(root, patterns),
      logger: new MemoryLogger(),
    });
    return { ok: true, message: outcome.message };
  } catch (error) {
    const e = error as Error;
    return { ok: false, name: e.name, message: e.message };
  } finally {
    agent.destroy();
  }
}

if (require.main === module) {
  main(JSON.parse(process.env.UPLOAD_AS_OTHER_USER ?? '{}') as OtherUserUpload).then(
    (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
    (error: unknown) => {
      process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
