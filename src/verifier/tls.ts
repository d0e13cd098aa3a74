// The verifier's TLS material (SPEC §4, §5 `--verify-tls-cert/--verify-tls-key`): a certificate from
// mounted files (a cert-manager Secret, typically), or a self-signed one made at start with
// node-forge, or none with `--verify-insecure`.
//
// Owns: generating the self-signed certificate (pure apart from the key generation and serial: time
// and names are passed in), loading and checking the files, and deciding when either must be renewed
// or reloaded. The server (server.ts) applies the result with `setSecureContext`, so a renewed
// certificate takes effect without a restart or a dropped connection.

import { createSecureContext } from 'node:tls';
import { generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type Forge from 'node-forge';

// node-forge is loaded on first use: only a verifier that makes its own certificate needs it (~10 MB
// of RSS), not one serving mounted files, and never the controller.
let forgeModule: typeof Forge | undefined;
function forge(): typeof Forge {
  forgeModule ??= createRequire(import.meta.url)('node-forge') as typeof Forge;
  return forgeModule;
}

export interface TlsMaterial {
  readonly cert: string;
  readonly key: string;
  readonly source: 'files' | 'self-signed';
  /** SHA-256 fingerprint of the certificate (`AA:BB:…`), for logs and for pinning a self-signed one. */
  readonly sha256: string;
  readonly notAfter: Date;
}

export interface SelfSignedOptions {
  /** DNS names for the subjectAltName; default `localhost`. */
  dnsNames?: readonly string[];
  /** IP addresses for the subjectAltName; default 127.0.0.1 and ::1. */
  ipAddresses?: readonly string[];
  now: Date;
  /** Default 7 days: renewed at half-life by the server, so clients never see it expire. */
  validityMs?: number;
}

export const SELF_SIGNED_VALIDITY_MS = 7 * 24 * 3_600_000;
const SELF_SIGNED_CN = 'scim-token-operator verifier (self-signed)';
// Clients whose clocks run a little behind must not see a certificate from the future.
const BACKDATE_MS = 5 * 60_000;

/**
 * A fresh RSA-2048 key and a self-signed serverAuth certificate for it. The key pair comes from
 * node:crypto (native, ~50 ms) rather than forge's JavaScript generator; forge builds and signs the
 * certificate.
 */
export function generateSelfSigned(options: SelfSignedOptions): TlsMaterial {
  const dnsNames = options.dnsNames ?? ['localhost'];
  const ipAddresses = options.ipAddresses ?? ['127.0.0.1', '::1'];
  const validityMs = options.validityMs ?? SELF_SIGNED_VALIDITY_MS;

  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  const { pki, md } = forge();
  const key = pki.privateKeyFromPem(privateKey);
  const cert = pki.createCertificate();
  cert.publicKey = pki.setRsaPublicKey(key.n, key.e);
  // RFC 5280: a positive serial of at most 20 octets; clearing the top bit keeps it positive.
  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f;
  cert.serialNumber = serial.toString('hex');
  cert.validity.notBefore = new Date(options.now.getTime() - BACKDATE_MS);
  cert.validity.notAfter = new Date(options.now.getTime() + validityMs);
  const subject = [{ name: 'commonName', value: SELF_SIGNED_CN }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [
        ...dnsNames.map((value) => ({ type: 2, value })),
        ...ipAddresses.map((ip) => ({ type: 7, ip })),
      ],
    },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(key, md.sha256.create());
  const certPem = pki.certificateToPem(cert);
  return describe(certPem, pki.privateKeyToPem(key), 'self-signed');
}

/**
 * Reads a PEM certificate (chain) and key and checks that Node can serve them (parseable, key
 * matching the certificate). Errors name the file, never its contents.
 */
export async function loadTlsFiles(certFile: string, keyFile: string): Promise<TlsMaterial> {
  const [cert, key] = await Promise.all([
    readFile(certFile, 'utf8').catch((err: unknown) => {
      throw new Error(`--verify-tls-cert: cannot read ${certFile}: ${codeOf(err)}`);
    }),
    readFile(keyFile, 'utf8').catch((err: unknown) => {
      throw new Error(`--verify-tls-key: cannot read ${keyFile}: ${codeOf(err)}`);
    }),
  ]);
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    throw new Error(
      `--verify-tls-cert/--verify-tls-key: ${certFile} and ${keyFile} are not a usable certificate and key (${codeOf(err)})`,
    );
  }
  return describe(cert, key, 'files');
}

/** True when a self-signed certificate has less than half of its validity left. */
export function selfSignedNeedsRenewal(material: TlsMaterial, now: Date, validityMs: number): boolean {
  return material.notAfter.getTime() - now.getTime() < validityMs / 2;
}

function describe(cert: string, key: string, source: TlsMaterial['source']): TlsMaterial {
  const x509 = new X509Certificate(cert);
  return { cert, key, source, sha256: x509.fingerprint256, notAfter: new Date(x509.validTo) };
}

// A key file's contents must never reach an error message: keep only the error code (ENOENT,
// ERR_OSSL_…) or, lacking one, a generic word.
function codeOf(err: unknown): string {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' ? code : 'invalid';
}
