/**
 * PROXY protocol v1 and v2 (HAProxy proxy-protocol.txt): detect, parse incrementally, encode.
 * Pure: Buffer in, result out. Call parseProxyHeader again with all bytes received so far until
 * the status is not 'need-more'; the payload starts at `header.length`.
 */
import { ABSENT, NEED_MORE, V1_PREFIX, V2_SIGNATURE, type ProxyParseResult } from './proxy-header.js';
import { parseProxyV1 } from './proxy-v1.js';
import { parseProxyV2 } from './proxy-v2.js';

export type { ProxyEndpoint, ProxyHeader, ProxyParseResult } from './proxy-header.js';
export { encodeProxyV1 } from './proxy-v1.js';
export { encodeProxyV2 } from './proxy-v2.js';

type PrefixMatch = 'full' | 'partial' | 'no';

/** Whether `buf` starts with `prefix` (full), is a proper prefix of it (partial), or neither. */
function matchPrefix(buf: Buffer, prefix: Buffer): PrefixMatch {
  const n = Math.min(buf.length, prefix.length);
  for (let i = 0; i < n; i++) if (buf[i] !== prefix[i]) return 'no';
  return buf.length >= prefix.length ? 'full' : 'partial';
}

/**
 * `buf` holds every byte received so far. 'absent' as soon as a byte rules out both the v1
 * "PROXY " prefix and the v2 signature; 'need-more' while a valid header could still follow.
 */
export function parseProxyHeader(buf: Buffer): ProxyParseResult {
  if (buf.length === 0) return NEED_MORE;
  const v2 = matchPrefix(buf, V2_SIGNATURE);
  if (v2 === 'full') return parseProxyV2(buf);
  const v1 = matchPrefix(buf, V1_PREFIX);
  if (v1 === 'full') return parseProxyV1(buf);
  return v1 === 'partial' || v2 === 'partial' ? NEED_MORE : ABSENT;
}
