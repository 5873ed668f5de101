/**
 * The socket-error classifier (issue 14): keep-alive probe timeouts split from client_error /
 * backend_error, DNS failures split from backend_connect_failed. Both are also produced for real:
 * keepalive-timeout.test.ts (probes dropped in a network namespace), wire-reasons.test.ts (DNS).
 */
import { describe, expect, it } from 'vitest';
import { isDnsFailure, peerErrorReason } from '../../../src/net/socket-errors.js';
import { connectFailure } from '../../../src/net/upstream.js';

const err = (code: string): NodeJS.ErrnoException => Object.assign(new Error(code), { code });

describe('peerErrorReason', () => {
  it('ETIMEDOUT with keep-alive on and nothing waiting to be written: a keep-alive probe timeout', () => {
    expect(peerErrorReason('client', 'ETIMEDOUT', true, 0)).toBe('client_keepalive_timeout');
    expect(peerErrorReason('backend', 'ETIMEDOUT', true, 0)).toBe('backend_keepalive_timeout');
  });

  it('ETIMEDOUT with bytes waiting (retransmission timeout) or without keep-alive stays an error', () => {
    expect(peerErrorReason('client', 'ETIMEDOUT', true, 1)).toBe('client_error');
    expect(peerErrorReason('backend', 'ETIMEDOUT', true, 65_536)).toBe('backend_error');
    expect(peerErrorReason('client', 'ETIMEDOUT', false, 0)).toBe('client_error');
    expect(peerErrorReason('backend', 'ETIMEDOUT', false, 0)).toBe('backend_error');
  });

  it('resets and other errors are unchanged', () => {
    expect(peerErrorReason('client', 'ECONNRESET', true, 0)).toBe('client_reset');
    expect(peerErrorReason('backend', 'ECONNRESET', true, 0)).toBe('backend_reset');
    expect(peerErrorReason('client', 'EPIPE', true, 0)).toBe('client_error');
    expect(peerErrorReason('backend', 'EHOSTUNREACH', true, 0)).toBe('backend_error');
    expect(peerErrorReason('client', undefined, true, 0)).toBe('client_error');
  });
});

describe('connectFailure', () => {
  it('names DNS failures backend_dns_failed', () => {
    for (const code of ['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME']) {
      expect(isDnsFailure(code), code).toBe(true);
      expect(connectFailure(err(code)), code).toBe('backend_dns_failed');
    }
  });

  it('keeps refused / unreachable, TLS and resource exhaustion as they were', () => {
    expect(isDnsFailure('ECONNREFUSED')).toBe(false);
    expect(isDnsFailure(undefined)).toBe(false);
    expect(connectFailure(err('ECONNREFUSED'))).toBe('backend_connect_failed');
    expect(connectFailure(err('ETIMEDOUT'))).toBe('backend_connect_failed');
    expect(connectFailure(err('DEPTH_ZERO_SELF_SIGNED_CERT'))).toBe('backend_tls_error');
    expect(connectFailure(err('EMFILE'))).toBe('local_resource_exhausted');
  });
});
