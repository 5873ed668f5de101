#!/usr/bin/env node
// The soak's backend (started by bench/soak.mjs with an IPC channel): an echo server on
// 127.0.0.1 that honours half-close (ends its side after echoing everything once the peer's FIN
// came) and is SATURATED: all connections share one byte budget per 10 ms tick
// (`BYTES_PER_SEC`), so under load reads stop, the proxy's buffers fill and backpressure must
// hold all the way back to the clients.
//
//   node bench/soak-backend.mjs BYTES_PER_SEC     -> sends {type: 'ready', port}
import net from 'node:net';

const rate = Number(process.argv[2] ?? 50_000_000);
const TICK_MS = 10;
const perTick = Math.max(1, Math.floor((rate * TICK_MS) / 1000));
let budget = perTick;
/** Sockets paused because the shared budget ran out. */
const starved = new Set();

const kDrain = Symbol('waitDrain');
const kBudget = Symbol('waitBudget');

function maybeResume(s) {
  if (!s[kDrain] && !s[kBudget] && !s.destroyed) s.resume();
}
function onDrain() {
  this[kDrain] = false;
  maybeResume(this);
}
function onData(chunk) {
  if (budget <= 0 && !this[kBudget]) {
    // Over budget: wait in line (FIFO) for a later tick; this chunk is echoed now.
    this[kBudget] = true;
    this.pause();
    starved.add(this);
  }
  budget -= chunk.length;
  if (!this.write(chunk)) {
    this[kDrain] = true;
    this.pause();
  }
  if (budget <= 0 && !this[kBudget]) {
    this[kBudget] = true;
    this.pause();
    starved.add(this);
  }
}
function onEnd() {
  this.end();
}
function onClose() {
  starved.delete(this);
}

setInterval(() => {
  budget = perTick;
  // First come, first served: each resumed socket may read up to one 16 KiB chunk of the budget.
  for (const s of starved) {
    if (budget <= 0) break;
    starved.delete(s);
    s[kBudget] = false;
    maybeResume(s);
    budget -= 16384;
  }
}, TICK_MS);

const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (s) => {
  s[kDrain] = false;
  s[kBudget] = false;
  s.on('error', () => {});
  s.on('data', onData);
  s.on('drain', onDrain);
  s.on('end', onEnd);
  s.on('close', onClose);
});
server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => {
  process.send({ type: 'ready', port: server.address().port });
});
process.on('disconnect', () => process.exit(0));
