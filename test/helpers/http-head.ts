/** Shared by the HTTP head parser tests (test/unit/protocol/http-head*.test.ts): messages and parse shorthands. */
import {
  parseRequestHead,
  parseResponseHead,
  type HeadLimits,
  type HeadResult,
  type RequestHead,
  type ResponseHead,
} from '../../src/protocol/http-head.js';

export const LIMITS: HeadLimits = { maxHeaderBytes: 16384, maxHeaderCount: 100 };

/** Lines joined with CRLF and ended by the empty line. */
export const msg = (...lines: string[]): Buffer => Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1');
export const req = (buf: Buffer): HeadResult<RequestHead> => parseRequestHead(buf, LIMITS);
export const res = (buf: Buffer, method = 'GET'): HeadResult<ResponseHead> => parseResponseHead(buf, LIMITS, method);

export function done<T>(r: HeadResult<T>): T {
  if (r.status !== 'done') throw new Error(`expected done, got ${JSON.stringify(r)}`);
  return r.head;
}
export const doneReq = (buf: Buffer): RequestHead => done(req(buf));
export const doneRes = (buf: Buffer, method = 'GET'): ResponseHead => done(res(buf, method));

export type Reject = readonly [name: string, raw: Buffer, code: string, httpStatus: number];
export const H = 'Host: a.test';
