/**
 * The request path routing matches, and the backend receives (so both see the same resource):
 * unreserved characters percent-decoded and other escapes upper-cased (RFC 3986 §6.2.2.1–2),
 * dot-segments removed (RFC 3986 §5.2.4, also when spelled `%2e`), runs of slashes merged.
 * `%2F` and `%5C` (and a raw backslash) name a separator to some backends and not to others, and
 * `;` path parameters are dropped by some (Tomcat, Spring) before matching: each has a configured
 * action, reject by default (Envoy's `path_with_escaped_slashes_action`, with REJECT_REQUEST).
 */

export type EscapedSlashAction = 'reject' | 'keep' | 'decode';
export type PathParameterAction = 'reject' | 'keep' | 'strip';

export interface PathPolicy {
  /** `%2F`, `%5C` and a raw `\`: refuse, pass on as they are, or decode to `/`. */
  readonly escapedSlashes: EscapedSlashAction;
  /** `;` in the path: refuse, keep, or strip each segment's parameters. */
  readonly pathParameters: PathParameterAction;
}

export interface PathError {
  readonly error: string;
}

/** Bytes that send a path through the slow (rewriting) path. */
const SPECIAL = new Uint8Array(128);
for (const c of '%;\\#') SPECIAL[c.charCodeAt(0)] = 1;

const UNRESERVED = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~') UNRESERVED[c.charCodeAt(0)] = 1;

function hex(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  return l >= 0x61 && l <= 0x66 ? l - 0x61 + 10 : -1;
}

const HEX = '0123456789ABCDEF';

/**
 * Normalise an origin-form path (starts with `/`, no query). Returns the same string when there
 * is nothing to do (the common case costs one scan), else the rewritten path, or why it is refused.
 */
export function normalizePath(path: string, policy: PathPolicy): string | PathError {
  let special = false;
  let prevSlash = false;
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 0x2e) {
      // Only a whole `.` or `..` segment is a dot-segment (`/a.b/` is not).
      if (path.charCodeAt(i - 1) !== 0x2f) continue;
      const n = path.charCodeAt(i + 1);
      const n2 = path.charCodeAt(i + 2);
      if (i + 1 === path.length || n === 0x2f || (n === 0x2e && (i + 2 === path.length || n2 === 0x2f))) {
        special = true;
        break;
      }
      prevSlash = false;
      continue;
    }
    if (c < 128 && SPECIAL[c] === 1) {
      special = true;
      break;
    }
    if (c === 0x2f) {
      if (prevSlash) {
        special = true;
        break;
      }
      prevSlash = true;
    } else prevSlash = false;
  }
  if (!special) return path;
  // 1. Percent-decoding of unreserved characters, escapes upper-cased; separators per policy.
  let out = '';
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 0x23) return { error: 'fragment in request-target' };
    if (c === 0x5c) {
      const r = slash(policy, '\\');
      if (typeof r !== 'string') return r;
      out += r;
      continue;
    }
    if (c !== 0x25) {
      out += path[i];
      continue;
    }
    const h = hex(path.charCodeAt(i + 1));
    const l = hex(path.charCodeAt(i + 2));
    if (h === -1 || l === -1) return { error: 'invalid percent-encoding in path' };
    const v = h * 16 + l;
    i += 2;
    if (v < 128 && UNRESERVED[v] === 1) out += String.fromCharCode(v);
    else if (v === 0x2f || v === 0x5c) {
      const r = slash(policy, v === 0x2f ? '%2F' : '%5C');
      if (typeof r !== 'string') return r;
      out += r;
    } else out += `%${HEX[h]}${HEX[l]}`;
  }
  // 2. Path parameters.
  if (out.includes(';')) {
    if (policy.pathParameters === 'reject') return { error: "';' path parameter in path" };
    if (policy.pathParameters === 'strip') out = out.replace(/;[^/]*/g, '');
  }
  // 3. Segments: empty ones merged, dot-segments removed (never above the root).
  const segs = out.split('/');
  const kept: string[] = [];
  let trailing = false;
  for (let i = 1; i < segs.length; i++) {
    const s = segs[i]!;
    const last = i === segs.length - 1;
    if (s === '..') kept.pop();
    else if (s !== '.' && s !== '') kept.push(s);
    trailing = last && (s === '' || s === '.' || s === '..');
  }
  if (kept.length === 0) return '/';
  return `/${kept.join('/')}${trailing ? '/' : ''}`;
}

function slash(policy: PathPolicy, spelled: string): string | PathError {
  if (policy.escapedSlashes === 'reject') return { error: `${spelled === '\\' ? 'backslash' : spelled} in path` };
  return policy.escapedSlashes === 'keep' ? spelled : '/';
}

export function isPathError(v: unknown): v is PathError {
  return typeof v === 'object' && v !== null && 'error' in v;
}

/** What the request target says, for routing and for the head sent to the backend. */
export interface TargetFacts {
  /** Authority of an absolute-form target (lowercased, port kept), or null. */
  readonly authority: string | null;
  /** Normalised path for routing (`/` for asterisk-form). */
  readonly path: string;
  /** The request-target the backend receives (origin-form; `*` stays `*`). */
  readonly target: string;
}

const ABSOLUTE = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/?#]*)([^?#]*)([^#]*)$/;
const AUTHORITY = /^(?:\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9\-._~!$&'()*+,;=%]+)(?::[0-9]*)?$/;

/**
 * Split and normalise a request-target (RFC 9112 §3.2). Absolute-form becomes origin-form with
 * its authority reported (the Host the backend must see); CONNECT's authority-form is not routed here.
 */
export function parseTarget(raw: string, policy: PathPolicy): TargetFacts | PathError {
  if (raw === '*') return { authority: null, path: '/', target: '*' };
  let authority: string | null = null;
  let rawPath = raw;
  if (raw.charCodeAt(0) !== 0x2f) {
    const m = ABSOLUTE.exec(raw);
    if (m === null) return { error: 'invalid request-target' };
    const scheme = m[1]!.toLowerCase();
    if (scheme !== 'http' && scheme !== 'https') return { error: `unsupported scheme ${scheme} in request-target` };
    const auth = m[2]!;
    if (!AUTHORITY.test(auth)) return { error: 'invalid authority in request-target' };
    authority = auth.toLowerCase();
    rawPath = (m[3] === '' ? '/' : m[3]!) + m[4]!;
  }
  const q = rawPath.indexOf('?');
  const pathOnly = q === -1 ? rawPath : rawPath.slice(0, q);
  const path = normalizePath(pathOnly, policy);
  if (isPathError(path)) return path;
  if (path === pathOnly && authority === null) return { authority, path, target: raw };
  return { authority, path, target: q === -1 ? path : path + rawPath.slice(q) };
}
