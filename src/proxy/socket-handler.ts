/**
 * The socket-handler mode (`action.type: 'socket-handler'`, library API only): the user's function
 * gets the client socket, the peeked bytes put back first. From then on the socket is theirs;
 * the record only watches it close.
 */
import { CloseReason, EndKind, Initiator, Phase } from '../core/close-reasons.js';
import { FaultSite } from '../core/channels.js';
import type { Mode } from '../net/mode.js';
import { targetContext } from '../net/upstream.js';

export const socketHandler: Mode = {
  name: 'socket-handler',
  site: FaultSite.Handler,
  start(c, route) {
    const handler = route.config.action.socketHandler;
    if (typeof handler !== 'function') {
      c.close(CloseReason.TargetResolutionFailed, Initiator.Proxy);
      return;
    }
    c.enter(Phase.Handler);
    const s = c.client;
    const pending = c.takePending();
    if (pending !== null) s.unshift(pending);
    s.resume();
    handler(s, targetContext(c, route));
  },
  clientClosed(c) {
    if (c.reason === null) c.decide(CloseReason.HandlerClosed, Initiator.Client, EndKind.Fin);
  },
};
