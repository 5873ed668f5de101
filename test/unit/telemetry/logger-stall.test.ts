/**
 * A log destination that stops reading (a stalled pipe to a log shipper): the periodic flush must
 * not add a 'drain' listener a second, and the buffer must stay bounded (lines are dropped).
 * The pipe is real: a FIFO whose read end is open and never read.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger, flushPeriodically } from '../../../src/telemetry/logger.js';

const fifo = join(mkdtempSync(join(tmpdir(), 'sightline-fifo-')), 'log');
execFileSync('mkfifo', [fifo]);
const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
afterAll(() => closeSync(reader));

describe('logger on a destination that stopped reading', () => {
  it('flushes without piling up drain listeners, and drops lines past 16 MiB', async () => {
    const logger = createLogger({ level: 'info', destination: fifo } as Parameters<typeof createLogger>[0]);
    const stream = (logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] as NodeJS.EventEmitter & {
      _len: number;
    };
    let dropped = 0;
    stream.on('drop', () => dropped++);
    const line = 'x'.repeat(1000);
    // Far more than a pipe holds (64 KiB) and more than the 16 MiB cap.
    for (let i = 0; i < 20_000; i++) logger.info(line);
    for (let i = 0; i < 50; i++) {
      flushPeriodically(logger);
      await new Promise((r) => setImmediate(r));
    }
    expect(stream.listenerCount('drain')).toBeLessThanOrEqual(1);
    expect(dropped).toBeGreaterThan(0);
    expect(stream._len).toBeLessThanOrEqual(16 * 1024 * 1024);
  });
});
