/**
 * One cluster worker: a SightlineProxy listening with reusePort (the kernel balances connections
 * between the workers), no admin listener and no pattern detector of its own. It answers the
 * primary's questions with its own admin view, sends its closes to the primary's detector in
 * batches, reloads when told (reload-bridge.ts), and drains on `drain`, on SIGTERM/SIGINT (a
 * Ctrl-C reaches the whole process group) or when the primary goes away.
 */
import diagnostics from 'node:diagnostics_channel';
import type { ConnectionQuery } from '../../admin/source.js';
import { CHANNEL_NAMES, type CloseEvent } from '../../core/channels.js';
import { loadConfigFile } from '../../config/load.js';
import { inheritConfigHash } from '../../config/config-hash.js';
import { SightlineProxy } from '../../server.js';
import { sharedProcessRegistry } from '../../telemetry/metrics.js';
import { patternSampleOf } from '../../telemetry/pattern-feed.js';
import type { CloseSample } from '../../telemetry/pattern-types.js';
import { describeError } from '../describe-error.js';
import { isMessage, type FromWorker, type MetricsJson, type ToWorker } from './messages.js';
import { reloadFromFile } from './reload-bridge.js';

/** Closes are sent at least this often (the detector sees a pattern a quarter second late)... */
const BATCH_MS = 250;
/** ...or as soon as this many are waiting (bounds the message size). */
const BATCH_MAX = 512;
/** PatternDetectorOptions.minDurationMs, the default the primary's detector uses. */
const MIN_SAMPLE_MS = 1_000;

function send(m: FromWorker): void {
  if (process.connected) process.send?.(m, undefined, undefined, () => {});
}

async function answer(proxy: SightlineProxy, m: Extract<ToWorker, { t: 'ask' }>): Promise<unknown> {
  const view = proxy.adminView();
  switch (m.what) {
    case 'metrics': {
      const own = (await proxy.telemetry?.metrics?.registry.getMetricsAsJSON()) ?? [];
      return [...own, ...(await sharedProcessRegistry().getMetricsAsJSON())] as MetricsJson;
    }
    case 'stats':
      return view.stats();
    case 'connections':
      return view.connections((m.query as ConnectionQuery | undefined) ?? { limit: 100 });
    case 'routes':
      return view.routes();
    case 'closes':
      return view.recentCloses();
    case 'close-ages':
      return view.closeAges(m.query as string | undefined);
    case 'open-ages':
      return view.openAges();
    case 'close-records':
      return view.closeRecords(m.query as { route?: string; limit: number });
    case 'connection':
      return view.connection(m.query as number);
    case 'close-connection':
      return view.closeConnection(m.query as string);
  }
}

export async function runWorker(file: string): Promise<void> {
  let proxy: SightlineProxy;
  try {
    const o = await loadConfigFile(file);
    proxy = new SightlineProxy(
      // The primary owns the admin listener and the one pattern detector fed by every worker.
      inheritConfigHash(o, {
        ...o,
        admin: { ...o.admin, enabled: false },
        telemetry: { ...o.telemetry, patterns: { enabled: false } },
      }),
      { reusePort: true },
    );
    await proxy.start();
  } catch (err) {
    send({ t: 'fatal', error: describeError(err) });
    process.exitCode = 2;
    process.disconnect?.();
    return;
  }

  let batch: CloseSample[] = [];
  const flush = (): void => {
    const samples = batch;
    batch = [];
    send({ t: 'closes', samples, open: Object.fromEntries(proxy.getStats().getConnectionsByRoute()) });
  };
  const onClose = (msg: unknown): void => {
    const e = msg as CloseEvent;
    if (e.conn.proxyId !== proxy.id) return;
    const s = patternSampleOf(e, Date.now());
    // The detector drops closes younger than 1 s (its minDurationMs): not worth the IPC.
    if (s === null || s.durationMs < MIN_SAMPLE_MS) return;
    batch.push(s);
    if (batch.length >= BATCH_MAX) flush();
  };
  diagnostics.subscribe(CHANNEL_NAMES.close, onClose);
  const timer = setInterval(flush, BATCH_MS);

  let stopping: Promise<void> | null = null;
  const drain = (): Promise<void> =>
    (stopping ??= (async () => {
      await proxy.stop();
      clearInterval(timer);
      diagnostics.unsubscribe(CHANNEL_NAMES.close, onClose);
      flush();
      process.disconnect?.();
    })());

  process.on('message', (m: unknown) => {
    if (!isMessage(m)) return;
    const msg = m as ToWorker;
    if (msg.t === 'ask') {
      Promise.resolve()
        .then(() => answer(proxy, msg))
        .then(
          (body) => send({ t: 'answer', id: msg.id, body }),
          (err: unknown) => send({ t: 'answer', id: msg.id, body: { error: describeError(err) } }),
        );
    } else if (msg.t === 'reload') {
      void reloadFromFile(proxy, msg.file).then((result) => send({ t: 'reloaded', id: msg.id, result }));
    } else if (msg.t === 'drain') void drain();
  });
  // A SIGHUP sent to the whole process group is the primary's to handle (reload all or none);
  // Node's default would end the worker.
  process.on('SIGHUP', () => {});
  process.on('SIGTERM', () => void drain());
  process.on('SIGINT', () => void drain());
  // The primary is gone (killed): nobody supervises or aggregates any more; leave cleanly.
  process.on('disconnect', () => void drain());
  send({ t: 'ready', ports: proxy.listeningPorts });
}
