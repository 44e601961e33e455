import * as fs from 'node:fs';
import * as path from 'node:path';
import type { StaticSiteConfig } from '../config';
import type { FakeHandler, FakeResponse } from './fake-http';

/**
 * A download host serving the files under a local folder (`GET`/`HEAD`), e.g. a kubectl
 * release at `dl.k8s.io/release/v1.34.2/bin/linux/amd64/kubectl` with its `.sha256`. Missing
 * files get the 404 body of the Google Cloud Storage bucket behind dl.k8s.io. The folder is read
 * on every request, so a test can change files between runs.
 */
export function staticFilesHandler(site: StaticSiteConfig): FakeHandler {
  const root = path.resolve(site.root);
  return (req) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return { status: 405, headers: { allow: 'GET, HEAD' }, body: '' };
    const rel = decodeURIComponent(req.url.pathname).replace(/^\/+/, '');
    const file = path.resolve(root, rel);
    if (!file.startsWith(root + path.sep) || !fs.statSync(file, { throwIfNoEntry: false })?.isFile()) return noSuchKey(rel);
    const body = fs.readFileSync(file);
    return {
      status: 200,
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(body.length), 'cache-control': 'public, max-age=3600' },
      body: req.method === 'HEAD' ? '' : body,
    };
  };
}

function noSuchKey(key: string): FakeResponse {
  return {
    status: 404,
    headers: { 'content-type': 'application/xml; charset=UTF-8' },
    body: `<?xml version='1.0' encoding='UTF-8'?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Details>No such object: 767373bbdcb8270361b96548387bf2a9ad0d48758c35/${key}</Details></Error>`,
  };
}
