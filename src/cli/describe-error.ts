/** How the CLI puts an error in one line (the single process, the cluster primary and its workers). */
import { ConfigError, SightlineError } from '../core/errors.js';

/** A one-line description of what went wrong, never a stack trace. */
export function describeError(err: unknown): string {
  if (err instanceof ConfigError)
    return `invalid configuration: ${err.message.replace(/^configuration is invalid: /, '')}`;
  if (err instanceof SightlineError) return err.message;
  return err instanceof Error ? err.message : String(err);
}
