/**
 * `admin.tokenFile`: the admin bearer token read at load time (and at every reload), as Prometheus
 * reads `credentials_file`: a token kept in a mounted Kubernetes Secret never sits in the config.
 * Read here, with the TLS material, so nothing is read once the proxy runs.
 */
import { readFileSync, statSync } from 'node:fs';
import type { ConfigIssue } from '../core/errors.js';

/** A token is a line, not a document: anything larger is the wrong file. */
const MAX_TOKEN_FILE_BYTES = 4096;

/** The file's token, or the issue naming `admin.tokenFile`. */
export function readAdminToken(path: string): { token: string } | { issue: ConfigIssue } {
  const fail = (message: string): { issue: ConfigIssue } => ({
    issue: { path: 'admin.tokenFile', message: `${path}: ${message}` },
  });
  try {
    const st = statSync(path);
    if (!st.isFile()) return fail('not a regular file');
    if (st.size > MAX_TOKEN_FILE_BYTES)
      return fail(`${st.size} bytes; a token file holds one line (at most ${MAX_TOKEN_FILE_BYTES} bytes)`);
    const token = readFileSync(path, 'utf8').trim();
    if (token === '') return fail('empty: the admin token must not be empty');
    if (/\s/.test(token)) return fail('holds whitespace inside the token (one token on one line)');
    return { token };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return fail(
      code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : String((err as Error).message),
    );
  }
}
