/** VVP's Universal Blob Storage keeps a namespace's artifacts under this prefix. */
const ARTIFACT_PREFIX = 'artifacts/namespaces';

/** Azure's limit for a blob name, prefix included. */
const MAX_BLOB_NAME_LENGTH = 1024;
/** Azure's limit of `/`-separated segments in a blob name. */
const MAX_SEGMENTS = 254;

/** Where the artifact goes and how VVP and people address it. */
interface ArtifactLocation {
  /** `https://<account>.blob.<suffix>` or the custom endpoint, without a trailing slash. */
  accountUrl: string;
  container: string;
  /** Full blob name: `artifacts/namespaces/<namespace>/<blobName>`. */
  blobName: string;
  /** The https URL of the blob, path segments percent-encoded. */
  blobUrl: string;
  /** `wasbs://<container>@<host>/<blob name>`, the form VVP's deployment spec takes. */
  jarUri: string;
}

/**
 * Why `name` cannot be the part of the blob name under the namespace prefix, or undefined
 * when it can (`namespace` counts towards Azure's length limit). Rejects what Azure rejects or silently rewrites: URL normalisation drops `.`
 * and resolves `..` segments, and a backslash becomes a slash in some clients.
 */
export function blobNameProblem(name: string, namespace: string): string | undefined {
  if (name === '') return 'must not be empty';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'must not contain control characters';
  if (name.includes('\\')) return "must not contain a backslash ('\\'); use '/' to separate folders";
  if (name.startsWith('/')) return "must not start with '/' (it is relative to artifacts/namespaces/<namespace>/)";
  if (name.endsWith('/')) return "must not end with '/' (that names a folder, not a file)";
  const segments = name.split('/');
  if (segments.some((s) => s === '')) return "must not contain empty path segments ('//')";
  if (segments.some((s) => s === '.' || s === '..')) return "must not contain '.' or '..' path segments";
  if (segments.length > MAX_SEGMENTS - 3) return `must have at most ${MAX_SEGMENTS - 3} path segments (Azure allows ${MAX_SEGMENTS} for the whole name)`;
  const room = MAX_BLOB_NAME_LENGTH - artifactBlobName(namespace, '').length;
  if (name.length > room) {
    return `must be at most ${room} characters (Azure allows ${MAX_BLOB_NAME_LENGTH} for the whole name, ${ARTIFACT_PREFIX}/${namespace}/ included)`;
  }
  return undefined;
}

/** `artifacts/namespaces/<namespace>/<blobName>`. */
function artifactBlobName(namespace: string, blobName: string): string {
  return `${ARTIFACT_PREFIX}/${namespace}/${blobName}`;
}

/** Percent-encodes each path segment, keeping the slashes (as the storage SDK does). */
function encodeBlobPath(name: string): string {
  return name.split('/').map(encodeURIComponent).join('/');
}

/**
 * Builds the target and its addresses. Without `blobEndpoint` the account URL is
 * `https://<storageAccount>.blob.<storageSuffix>` (the connection's cloud decides the suffix,
 * e.g. `core.chinacloudapi.cn`); with it, its host is used for jarUri too (custom domain or
 * private endpoint name). The inputs must already be valid (see `parseUploadInputs`).
 */
export function artifactLocation(input: {
  storageAccount: string;
  storageSuffix: string;
  blobEndpoint?: string;
  container: string;
  namespace: string;
  blobName: string;
}): ArtifactLocation {
  const accountUrl = (input.blobEndpoint ?? `https://${input.storageAccount}.blob.${input.storageSuffix}`).replace(/\/+$/, '');
  const host = new URL(accountUrl).host;
  const blobName = artifactBlobName(input.namespace, input.blobName);
  const path = encodeBlobPath(blobName);
  return {
    accountUrl,
    container: input.container,
    blobName,
    blobUrl: `${accountUrl}/${input.container}/${path}`,
    jarUri: `wasbs://${input.container}@${host}/${path}`,
  };
}

/**
 * Content type stored on the blob: `application/java-archive` for JARs (what VVP's artifact
 * fetcher and browsers expect), `application/octet-stream` for anything else (e.g. PyFlink zips).
 */
export function contentTypeFor(fileName: string): string {
  return /\.jar$/i.test(fileName) ? 'application/java-archive' : 'application/octet-stream';
}
