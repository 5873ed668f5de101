/**
 * How the CLI prints a configuration that cannot be used: one line per problem, each starting
 * with the file name and naming the key (or line and column for syntax errors), never a stack
 * trace. `check`, `start` and a SIGHUP reload print the same lines.
 */
import { ConfigError, ErrorCodes, SightlineError } from '../core/errors.js';

/** The message without the error code's generic prefix and without a leading `<file>: `. */
function detail(err: SightlineError, file: string): string {
  const prefix = `${ErrorCodes[err.code].message}: `;
  let m = err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message;
  if (m.startsWith(`${file}: `)) m = m.slice(file.length + 2);
  return m;
}

/** One line per problem, each naming the file: `<file>: <key>: <message> (<hint>)`. */
export function configErrorLines(err: unknown, file: string): string[] {
  if (err instanceof ConfigError) {
    return err.issues.map((i) => `${file}: ${i.path || '(root)'}: ${i.message}${i.hint ? ` (${i.hint})` : ''}`);
  }
  if (err instanceof SightlineError) return [`${file}: ${detail(err, file).split('\n')[0] ?? ''}`];
  const m = err instanceof Error ? err.message : String(err);
  return [`${file}: ${m.split('\n')[0] ?? ''}`];
}

/** The same, as one line (a reload failure in a log record or a metric's log line). */
export function configErrorText(err: unknown, file: string): string {
  return configErrorLines(err, file).join('; ');
}
