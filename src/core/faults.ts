/**
 * The test-only fault-injection hook of the data path's guards (net/mode.ts, issue 11): a test
 * installs a function that may throw at a named site for a given connection, to prove that the
 * exception closes that connection only. In production no injector is installed and each guarded
 * event pays one null check.
 */
import type { FaultSite } from './channels.js';

/** May throw from `site` for `conn` (the connection record; null for proxy-wide callbacks). */
export type FaultInjector = (site: FaultSite, conn: unknown) => void;

/** The installed injector (null in production). Read it, never assign it: use injectFaults(). */
export let faultInjector: FaultInjector | null = null;

/** Install (or with null remove) the injector. Returns the previous one. */
export function injectFaults(fn: FaultInjector | null): FaultInjector | null {
  const prev = faultInjector;
  faultInjector = fn;
  return prev;
}

/** Run the injector, if one is installed. */
export function maybeFault(site: FaultSite, conn: unknown): void {
  if (faultInjector !== null) faultInjector(site, conn);
}
