/**
 * The one place a cluster worker reloads its configuration (SIGHUP on the primary → a `reload`
 * message to every worker → here): the same reload as a single process's SIGHUP.
 */
export { reloadFromFile } from '../reload.js';
