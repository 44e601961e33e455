/**
 * Where a kubectl release lives and what its file is called on each agent OS and architecture.
 * Pure, so the Windows and macOS naming is unit-tested on any machine.
 *
 * dl.k8s.io publishes a bare executable per platform (no archive to unpack):
 * `https://dl.k8s.io/release/v1.34.2/bin/linux/amd64/kubectl`, its SHA-256 at the same URL plus
 * `.sha256`, and `kubectl.exe` under `bin/windows/<arch>/`.
 */

import { InputError } from '../errors/errors';

/** The Kubernetes names of one agent platform, and the tool-cache folder name of its architecture. */
export interface KubectlPlatform {
  /** `linux`, `darwin` or `windows`: the OS segment of the download path. */
  os: string;
  /** `amd64`, `arm64`, `386`, `arm`, `ppc64le` or `s390x`: the architecture segment. */
  arch: string;
  /** `kubectl`, or `kubectl.exe` on Windows. */
  executable: string;
  /** The Node architecture (`x64`, `arm64`…), used as the tool cache's `arch` folder like other installer tasks do. */
  cacheArch: string;
}

/** Node platform → Kubernetes OS name, for the platforms kubectl is released for. */
const OS: Readonly<Record<string, string>> = { linux: 'linux', darwin: 'darwin', win32: 'windows' };

/** Node arch → Kubernetes arch name. */
const ARCH: Readonly<Record<string, string>> = { x64: 'amd64', arm64: 'arm64', ia32: '386', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' };

/** Combinations kubectl is built for (kubernetes/kubernetes hack/lib/golang.sh, KUBE_SUPPORTED_CLIENT_PLATFORMS). */
const RELEASED = new Set([
  'linux/amd64',
  'linux/386',
  'linux/arm',
  'linux/arm64',
  'linux/ppc64le',
  'linux/s390x',
  'darwin/amd64',
  'darwin/arm64',
  'windows/amd64',
  'windows/386',
  'windows/arm64',
]);

/**
 * The kubectl names for a Node `process.platform` / `process.arch` pair.
 *
 * @throws InputError for a platform without a kubectl release (e.g. freebsd, darwin/ia32).
 */
export function kubectlPlatform(platform: string, arch: string): KubectlPlatform {
  const os = OS[platform];
  const kubeArch = ARCH[arch];
  if (!os || !kubeArch || !RELEASED.has(`${os}/${kubeArch}`)) {
    throw new InputError(`kubectl is not released for ${platform}/${arch}: run the step on a Linux, macOS or Windows agent (x64 or arm64)`);
  }
  return { os, arch: kubeArch, executable: os === 'windows' ? 'kubectl.exe' : 'kubectl', cacheArch: arch };
}

/** `v1.34.2` or `1.34.2` (with an optional pre-release such as `-rc.1`). */
const VERSION = /^v?(\d+)\.(\d+)\.(\d+)(-[0-9A-Za-z.-]+)?$/;

/** `1.34.2` from `1.34.2` or `v1.34.2`; undefined when it is not an exact release version. */
export function normalizeKubectlVersion(value: string): string | undefined {
  const m = VERSION.exec(value.trim());
  if (!m) return undefined;
  return `${Number(m[1])}.${Number(m[2])}.${Number(m[3])}${m[4] ?? ''}`;
}

/** The two URLs of one release file: the executable and its published SHA-256. */
interface KubectlDownload {
  binaryUrl: string;
  sha256Url: string;
}

/**
 * `<base>/release/v<version>/bin/<os>/<arch>/<executable>` and the same plus `.sha256`. A path
 * on the base (a mirror such as `https://mirror.example.com/k8s`) is kept.
 */
export function kubectlDownload(baseUrl: URL | string, version: string, target: KubectlPlatform): KubectlDownload {
  const base = new URL(baseUrl.toString());
  base.search = '';
  base.hash = '';
  const prefix = base.href.replace(/\/+$/, '');
  const binaryUrl = `${prefix}/release/v${version}/bin/${target.os}/${target.arch}/${target.executable}`;
  return { binaryUrl, sha256Url: `${binaryUrl}.sha256` };
}

/**
 * The digest in a `.sha256` file: dl.k8s.io files hold only the 64 hex digits; `sha256sum`
 * output (`<digest>  kubectl`) from a mirror works too. Lower case; undefined when absent.
 */
export function parseSha256File(text: string): string | undefined {
  const first = text.trim().split(/\s+/)[0] ?? '';
  return /^[0-9a-fA-F]{64}$/.test(first) ? first.toLowerCase() : undefined;
}

/** The `gitVersion` (`v1.34.2`) in the output of `kubectl version --client --output=json`, if readable. */
export function clientVersionOf(jsonText: string): string | undefined {
  try {
    const parsed = JSON.parse(jsonText) as { clientVersion?: { gitVersion?: unknown } };
    const v = parsed.clientVersion?.gitVersion;
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}
