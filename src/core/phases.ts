/**
 * What a phase means to the layers below the modes: whether the peers' bytes are flowing in it
 * (a mode carries them), so that the lifecycle sweep's idle and age rules apply. Kept beside the
 * phase names so net/ asks this question instead of naming the modes' phases itself.
 */
import { Phase } from './close-reasons.js';

const CARRYING: ReadonlySet<Phase> = new Set<Phase>([Phase.Tunnel, Phase.Http, Phase.Handler]);

/** The connection is past its setup (peek, routing, handshake, connect) and a mode moves bytes. */
export function carriesBytes(phase: Phase): boolean {
  return CARRYING.has(phase);
}
