/** ConnectionStory (net/story.ts): first/last marks, the generation taken at routing, offsets from accept. */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/core/clock.js';
import { ConnectionStory } from '../../../src/net/story.js';

function story(): {
  clock: ManualClock;
  ctx: { clock: ManualClock; generation: number };
  s: ConnectionStory;
  start: number;
} {
  const clock = new ManualClock(1_700_000_000_000);
  const ctx = { clock, generation: 1 };
  const owner = { ctx, incomingStartTime: clock.now() };
  return { clock, ctx, s: new ConnectionStory(owner), start: owner.incomingStartTime };
}

describe('ConnectionStory', () => {
  it('nothing reached: no offsets; the generation is the current one until routed, then fixed', () => {
    const { ctx, s } = story();
    expect(s.closeFields()).toEqual({ configGeneration: 1, milestonesMs: {} });
    ctx.generation = 2;
    expect(s.configGeneration).toBe(2); // not routed: reports the current one
    s.markRouted();
    ctx.generation = 3;
    expect(s.configGeneration).toBe(2); // routed under 2: keeps it, as it keeps its route
  });

  it('hello, routed and upstream keep their first reading; byte marks keep the first and the last', () => {
    const { clock, s } = story();
    clock.advance(3);
    s.markHello();
    s.markRouted();
    clock.advance(2);
    s.markUpstream();
    s.c2b();
    clock.advance(1);
    s.b2c();
    clock.advance(10);
    s.markHello();
    s.markRouted();
    s.markUpstream();
    s.c2b();
    clock.advance(5);
    s.b2c();
    s.b2c();
    expect(s.closeFields().milestonesMs).toEqual({
      hello: 3,
      routed: 3,
      upstream: 5,
      c2bFirst: 5,
      c2bLast: 16,
      b2cFirst: 6,
      b2cLast: 21,
    });
  });

  it('upstreamAttached (HTTP): upstream once, and a client → backend byte mark each time', () => {
    const { clock, s } = story();
    clock.advance(4);
    s.upstreamAttached();
    clock.advance(40);
    s.upstreamAttached();
    expect(s.closeFields().milestonesMs).toEqual({ upstream: 4, c2bFirst: 4, c2bLast: 44 });
  });
});
