import * as fs from 'node:fs';
import * as path from 'node:path';

/** Absolute paths of the rig's committed test-only TLS files (see `test/rig/tls/README.md`). */
export interface TlsFiles {
  caCert: string;
  leafCert: string;
  leafKey: string;
  clientCert: string;
  /** Certificate then key in one PEM, as the AzureRM connection's `servicePrincipalCertificate`. */
  clientCertAndKey: string;
}

let cached: TlsFiles | undefined;

/**
 * Finds `test/rig/tls` from the running file. The folder is not copied by `tsc`, so from
 * `out/test/rig` we walk up to the checkout instead of assuming one layout.
 *
 * @throws Error when no ancestor folder holds `test/rig/tls/ca.pem`.
 */
export function tlsFiles(): TlsFiles {
  if (cached) return cached;
  let dir = __dirname;
  for (;;) {
    const candidate = path.join(dir, 'test', 'rig', 'tls');
    if (fs.existsSync(path.join(candidate, 'ca.pem'))) {
      cached = {
        caCert: path.join(candidate, 'ca.pem'),
        leafCert: path.join(candidate, 'leaf.pem'),
        leafKey: path.join(candidate, 'leaf-key.pem'),
        clientCert: path.join(candidate, 'client-cert.pem'),
        clientCertAndKey: path.join(candidate, 'client-cert-and-key.pem'),
      };
      return cached;
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`test rig: cannot find test/rig/tls above ${__dirname}`);
    dir = parent;
  }
}

/** Reads a file of {@link tlsFiles} as text. */
export function readPem(file: keyof TlsFiles): string {
  return fs.readFileSync(tlsFiles()[file], 'utf8');
}
