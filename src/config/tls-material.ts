/**
 * Everything a TLS route needs from disk, read and checked when the configuration is validated
 * (`check`, `start`, `updateRoutes`, reload) and never on the data path: certificate, key and CA
 * files are read once, parsed, matched (key ↔ certificate) and built into the route's
 * `SecureContext` with its ciphers and versions. A problem is a config issue naming the key and
 * the file; a certificate past its end date is a note (configNotes), not an error.
 *
 * The material lives in a side table keyed by the route's frozen `action.tls` object, so the
 * options stay plain data (no private key text in them, none in /api/routes) and a reload that
 * re-reads the files gives the new route objects new material while live connections keep theirs.
 */
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import tls from 'node:tls';
import type { ConfigIssue } from '../core/errors.js';
import { formatPath } from './issues.js';
import type { ResolvedRoute } from './schema.js';

export interface TlsMaterial {
  /** Terminating routes: the context served to clients (certificate, key, ciphers, versions). */
  readonly secureContext?: tls.SecureContext;
  /** Re-encrypting routes: the CA text trusted for the backend (undefined: Node's CA store). */
  readonly backendCa?: string;
  /** End of validity of the served certificate (ms since the epoch). */
  readonly notAfter?: number;
  /** The served certificate's subject, for notes. */
  readonly subject?: string;
}

type TlsConfig = NonNullable<ResolvedRoute['action']['tls']>;

const material = new WeakMap<TlsConfig, TlsMaterial>();

/** The material loaded for a route's `action.tls` (undefined when it never went through validation). */
export function tlsMaterialOf(t: TlsConfig): TlsMaterial | undefined {
  return material.get(t);
}

/** A PEM file is a few KiB; a bundle of CAs a few hundred. Anything larger is not a PEM file. */
const MAX_PEM_BYTES = 1_048_576;

class Problem extends Error {
  constructor(
    readonly key: readonly PropertyKey[],
    message: string,
  ) {
    super(message);
  }
}

function readPem(path: string, key: readonly PropertyKey[]): string {
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw new Problem(key, `${path} is a directory, not a PEM file`);
    if (st.size > MAX_PEM_BYTES)
      throw new Problem(key, `${path} is ${st.size} bytes, more than a PEM file holds (cap ${MAX_PEM_BYTES})`);
    return readFileSync(path, 'utf8');
  } catch (err) {
    if (err instanceof Problem) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (code ?? (err as Error).message);
    throw new Problem(key, `cannot read ${path} (${why})`);
  }
}

/** Splits a PEM bundle into certificates and parses each (a CA file may hold several). */
function parseCerts(text: string, key: readonly PropertyKey[], what: string): X509Certificate[] {
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0)
    throw new Problem(key, `${what} holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)`);
  return blocks.map((b, i) => {
    try {
      return new X509Certificate(b);
    } catch (err) {
      throw new Problem(key, `${what}: certificate ${i + 1} cannot be parsed (${(err as Error).message})`);
    }
  });
}

function parseKey(text: string, key: readonly PropertyKey[], what: string): KeyObject {
  try {
    return createPrivateKey(text);
  } catch (err) {
    throw new Problem(key, `${what} is not a usable PEM private key (${(err as Error).message})`);
  }
}

/** Text of a PEM option given inline (`key`) or as a file (`keyFile`), with the key to blame. */
function pemOf(
  obj: Readonly<Record<string, unknown>>,
  inline: string,
  file: string,
  base: readonly PropertyKey[],
): { text: string; key: readonly PropertyKey[]; what: string } | undefined {
  const i = obj[inline];
  if (typeof i === 'string') return { text: i, key: [...base, inline], what: `the inline ${inline}` };
  const f = obj[file];
  if (typeof f === 'string') {
    const key = [...base, file];
    return { text: readPem(f, key), key, what: f };
  }
  return undefined;
}

function loadRoute(t: TlsConfig, base: readonly PropertyKey[]): TlsMaterial {
  const out: { secureContext?: tls.SecureContext; backendCa?: string; notAfter?: number; subject?: string } = {};
  const versions = { minVersion: t.minVersion, maxVersion: t.maxVersion };
  if (t.ciphers !== undefined) {
    try {
      tls.createSecureContext({ ciphers: t.ciphers });
    } catch (err) {
      throw new Problem(
        [...base, 'ciphers'],
        `${JSON.stringify(t.ciphers)} is not an OpenSSL cipher list (${(err as Error).message})`,
      );
    }
  }
  const terminating = t.mode === 'terminate' || t.mode === 'terminate-and-reencrypt';
  const c = t.certificate;
  if (terminating && c !== undefined && c !== 'auto') {
    const cb = [...base, 'certificate'];
    const rec = c as Readonly<Record<string, unknown>>;
    const cert = pemOf(rec, 'cert', 'certFile', cb)!;
    const key = pemOf(rec, 'key', 'keyFile', cb)!;
    const ca = pemOf(rec, 'ca', 'caFile', cb);
    const leaf = parseCerts(cert.text, cert.key, cert.what)[0]!;
    const priv = parseKey(key.text, key.key, key.what);
    if (!leaf.checkPrivateKey(priv))
      throw new Problem(key.key, `${key.what} is not the private key of the certificate in ${cert.what}`);
    if (ca !== undefined) parseCerts(ca.text, ca.key, ca.what);
    try {
      out.secureContext = tls.createSecureContext({
        key: key.text,
        cert: cert.text,
        ca: ca?.text,
        ciphers: t.ciphers,
        ...versions,
      });
    } catch (err) {
      throw new Problem(cb, `OpenSSL refused the certificate of ${cert.what} (${(err as Error).message})`);
    }
    out.notAfter = Date.parse(leaf.validTo);
    out.subject = leaf.subject.replace(/\n/g, ', ');
  }
  if (t.mode === 'terminate-and-reencrypt') {
    const ca = pemOf(t as unknown as Readonly<Record<string, unknown>>, 'ca', 'caFile', base);
    if (ca !== undefined) {
      parseCerts(ca.text, ca.key, ca.what);
      out.backendCa = ca.text;
    }
  }
  return out;
}

/**
 * Reads and checks the TLS material of every route (paths relative to `base`, e.g. `['routes']`)
 * and records it for tlsMaterialOf. Returns one issue per route that failed.
 */
export function loadTlsMaterial(routes: readonly ResolvedRoute[], base: readonly PropertyKey[]): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  routes.forEach((r, i) => {
    const t = r.action.tls;
    if (t === undefined || t.mode === 'passthrough') return;
    try {
      material.set(t, loadRoute(t, [...base, i, 'action', 'tls']));
    } catch (err) {
      if (!(err instanceof Problem)) throw err;
      issues.push({ path: formatPath(err.key), message: err.message });
    }
  });
  return issues;
}
