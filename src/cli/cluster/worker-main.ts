/**
 * The program node:cluster runs as a worker (`cluster.setupPrimary({ exec })`): argv[2] is the
 * configuration file the primary validated.
 */
import { runWorker } from './worker.js';

const file = process.argv[2];
if (file === undefined) {
  process.stderr.write('sightline worker: no configuration file given\n');
  process.exitCode = 2;
} else {
  runWorker(file).catch((err: unknown) => {
    process.stderr.write(`sightline worker: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
  });
}
