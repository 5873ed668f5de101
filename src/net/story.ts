/**
 * The connection story record (issue 14 point 5): the configuration generation a connection was
 * routed under, and when it reached each step of its life: ClientHello parsed, routed, upstream
 * connected, the first and last byte each way. One per connection, made with it; the data path
 * only stores clock readings here (one-line set points), telemetry turns them into offsets from
 * accept when the connection closes.
 *
 * Cost on the hot path: the byte marks run per chunk, so each is one clock read, one compare and
 * two stores. The sweep's activity sampling (once a second by default) would be free but too
 * coarse for a milestone: a 40 ms exchange would show first and last byte in the same second.
 *
 * Directions: `c2b` counts bytes handed to the backend socket (the replayed ClientHello of a
 * tunnel, an HTTP request head, body bytes, WebSocket frames); `b2c` bytes from the backend handed
 * to the client socket. The proxy's own answers (an HTTP 502, close frames it makes) are not
 * backend bytes and do not count.
 */
import type { Clock } from '../core/clock.js';
import type { ConnectionStoryView, MilestoneOffsets } from '../core/channels.js';

/** Not reached (clock readings are epoch milliseconds, never negative). */
const NONE = -1;

/** What the record reads of its connection (read when needed: it is made before the connection's constructor runs). */
interface StoryOwner {
  readonly ctx: { readonly clock: Clock; readonly generation: number };
  readonly incomingStartTime: number;
}

export class ConnectionStory implements ConnectionStoryView {
  readonly #owner: StoryOwner;
  /** The generation taken when routed (NONE before: the proxy's current one is reported). */
  #generation = NONE;
  hello = NONE;
  routed = NONE;
  upstream = NONE;
  c2bFirst = NONE;
  c2bLast = NONE;
  b2cFirst = NONE;
  b2cLast = NONE;

  constructor(owner: StoryOwner) {
    this.#owner = owner;
  }

  /** The configuration generation the connection was routed under (before routing: the current one). */
  get configGeneration(): number {
    return this.#generation !== NONE ? this.#generation : this.#owner.ctx.generation;
  }

  /** The ClientHello was parsed (the first one only). */
  markHello(): void {
    if (this.hello === NONE) this.hello = this.#owner.ctx.clock.now();
  }

  /** A route was chosen: the connection keeps this generation, as it keeps its route. */
  markRouted(): void {
    if (this.routed !== NONE) return;
    this.routed = this.#owner.ctx.clock.now();
    this.#generation = this.#owner.ctx.generation;
  }

  /** The first backend socket can carry bytes (tunnel connected, HTTP upstream socket attached). */
  markUpstream(): void {
    if (this.upstream === NONE) this.upstream = this.#owner.ctx.clock.now();
  }

  /** An HTTP exchange got its upstream socket and its request head is written to it. */
  upstreamAttached(): void {
    this.markUpstream();
    this.c2b();
  }

  /** Bytes went from the client to the backend (per chunk: one clock read). */
  c2b(): void {
    const t = this.#owner.ctx.clock.now();
    if (this.c2bFirst === NONE) this.c2bFirst = t;
    this.c2bLast = t;
  }

  /** Bytes went from the backend to the client (per chunk: one clock read). */
  b2c(): void {
    const t = this.#owner.ctx.clock.now();
    if (this.b2cFirst === NONE) this.b2cFirst = t;
    this.b2cLast = t;
  }

  /** The close event's fields: the generation, and ms from accept to each milestone reached. */
  closeFields(): { configGeneration: number; milestonesMs: MilestoneOffsets } {
    return { configGeneration: this.configGeneration, milestonesMs: this.offsets(this.#owner.incomingStartTime) };
  }

  /** Milliseconds from `acceptedAt` to each milestone reached (unreached ones are left out). */
  offsets(acceptedAt: number): MilestoneOffsets {
    const o: { -readonly [K in keyof MilestoneOffsets]: number } = {};
    if (this.hello !== NONE) o.hello = this.hello - acceptedAt;
    if (this.routed !== NONE) o.routed = this.routed - acceptedAt;
    if (this.upstream !== NONE) o.upstream = this.upstream - acceptedAt;
    if (this.c2bFirst !== NONE) {
      o.c2bFirst = this.c2bFirst - acceptedAt;
      o.c2bLast = this.c2bLast - acceptedAt;
    }
    if (this.b2cFirst !== NONE) {
      o.b2cFirst = this.b2cFirst - acceptedAt;
      o.b2cLast = this.b2cLast - acceptedAt;
    }
    return o;
  }
}
