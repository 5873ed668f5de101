/**
 * "What to check" for a disconnect pattern: from who closed (Sightline itself, the backend side
 * or the client side), the timer kind (idle timer, age cap, shared timer) and, for Sightline's
 * own closes, the close reason, which names the option that decided.
 */
import { closeReasonInfo, type AdviceKey } from '../../core/close-reason-table.js';

export interface AdviceInput {
  readonly route: string;
  readonly periodSeconds: number;
  readonly kind: string;
  readonly initiator: string;
  readonly local: boolean;
  readonly timer: string;
  /** Close reasons of the pattern's closes (or of the route's, when the source has no better). */
  readonly reasons: Readonly<Record<string, number>>;
  /** Sightline's own setting that decided, as configured (`inactivityTimeout: 30000`), when known. */
  readonly setting?: string | null;
}

const s = (x: number): string => (x < 10 ? x.toFixed(1) : String(Math.round(x)));

/** Sightline's own closes, by the reason's `advice` key (core/close-reason-table.ts) → the option that decided. */
const OPTION_FOR_REASON: Readonly<Partial<Record<AdviceKey, (p: string) => string>>> = {
  'idle-timeout': (p) =>
    `Sightline's idle timeout closed them (reason inactivity, ≈ ${p} s idle): \`inactivityTimeout\` with \`keepAliveTreatment\` ('standard' uses inactivityTimeout as is, 'extended' multiplies it by \`keepAliveInactivityMultiplier\` and warns before the kill, 'immortal' never kills keep-alive connections); raise it above the longest silence of this route's traffic`,
  'age-cap': (p) =>
    `Sightline's age cap closed them (reason lifetime, at ≈ ${p} s): \`maxConnectionLifetime\` (connections that are not 'extended' keep-alive) or \`extendedKeepAliveLifetime\` ('extended' ones)`,
  'socket-timeout': (p) =>
    `Sightline's \`socketTimeout\` (≈ ${p} s) closed idle connections that are not keep-alive: keep \`keepAlive: true\` (it makes every connection keep-alive) or raise socketTimeout`,
  'half-zombie-grace': (p) =>
    `Sightline's half-zombie grace (≈ ${p} s) closed connections whose other side had gone quiet: \`lifecycle.halfZombieGrace\` (plain TCP) / \`lifecycle.halfZombieGraceTls\` (TLS, 5 min by default); a 30 s grace where pings cannot flow (SNI passthrough) is the classic "WebSockets drop every 30 s"`,
  'stuck-threshold': (p) =>
    `Sightline's stuck-connection check (≈ ${p} s: the client spoke, the backend never answered): \`lifecycle.stuckThreshold\` / \`lifecycle.stuckThresholdTls\`; or find out why the backend stays silent`,
  'websocket-heartbeat': () =>
    `Sightline's WebSocket heartbeat closed clients that did not answer a ping: the route's \`action.websocket.pingInterval\` / \`pingTimeout\`; clients behind something that drops pings cannot answer (on SNI passthrough Sightline cannot ping at all)`,
  'http-keep-alive-timeout': (p) =>
    `\`http.keepAliveTimeout\` (≈ ${p} s idle between HTTP requests on a client connection)`,
  'http-response-timeout': (p) => `\`http.responseTimeout\` (≈ ${p} s for the backend to start answering)`,
  'http-headers-timeout': (p) => `\`http.requestHeadersTimeout\` (≈ ${p} s for a whole request head)`,
  'initial-data-timeout': (p) =>
    `\`initialDataTimeout\` (≈ ${p} s for the first bytes, e.g. the TLS ClientHello, on SNI ports)`,
  'tls-handshake-timeout': (p) => `the route's \`action.tls.handshakeTimeout\` (≈ ${p} s)`,
  'backend-connect-timeout': (p) => `\`connectionTimeout\` (≈ ${p} s to connect to the backend)`,
  shutdown: (p) =>
    `Sightline was stopped or restarted (≈ every ${p} s?): \`gracefulShutdownTimeout\`, and whatever restarts it`,
  'admin-close': (p) =>
    `an operator closed them through the admin API (\`POST /api/connections/:id/close\`, ≈ every ${p} s?): look for the script or job that calls it`,
  'write-stall': (p) =>
    `\`lifecycle.writeStallTimeout\` (≈ ${p} s a peer may leave data unread): the access log's \`initiator\` names the peer that stopped reading`,
  'http-body-timeout': (p) => `\`http.requestBodyTimeout\` (≈ ${p} s without a byte of a request body still due)`,
};

const optionFor = (reason: string): ((p: string) => string) | undefined => {
  const key = closeReasonInfo(reason)?.advice;
  return key == null ? undefined : OPTION_FOR_REASON[key];
};

const heartbeat = (p: number): string =>
  `or keep the connections busy: an application heartbeat (a WebSocket ping, a no-op message) every ${s(Math.max(1, p / 2))} s or less resets every idle timer on the path`;

export function advice(a: AdviceInput): string[] {
  const p = s(a.periodSeconds);
  const out: string[] = [];
  if (a.kind === 'wall-clock-aligned') {
    out.push(
      `a shared timer ends many connections at the same instant every ${p} s: look for periodic reloads or restarts (\`sightline_config_reloads_total\` in /metrics; an ingress controller's reloads and its \`worker-shutdown-timeout\`), connection-pool age caps (Sightline's \`http.upstream.maxLifetime\` on HTTP routes, an upstream pool's maximum connection age), and jobs or sweepers on that schedule`,
    );
  }
  if (a.local || a.initiator === 'proxy') {
    if (a.setting != null) out.push(`the setting that decided: \`${a.setting}\` on route ${a.route}`);
    const reasons = Object.entries(a.reasons)
      .sort((x, y) => y[1] - x[1])
      .map(([r]) => r);
    const known = reasons.map(optionFor).filter((o) => o !== undefined);
    for (const o of known.slice(0, 2)) out.push(o(p));
    if (known.length === 0)
      out.push(
        `the close reason (${reasons[0] ?? 'unknown'}) names the Sightline setting that decided: see docs/close-reasons.md`,
      );
    out.push('`npx sightline check -c <config>` prints notes on timeouts that commonly cut long-lived connections');
  } else if (a.kind === 'wall-clock-aligned') {
    out.push(
      a.initiator === 'backend'
        ? 'that timer is on the backend side (a FIN/RST came from upstream): an upstream connection pool or load balancer recycling its connections, or backend restarts or reloads on that schedule'
        : a.initiator === 'client'
          ? 'that timer is on the client side (a FIN/RST came from downstream): a load balancer, CDN or ingress in front of Sightline reloading or recycling connections on that schedule'
          : `the initiator is not recorded; compare the close reasons and the access log (\`initiator\`, \`reason\`) of route ${a.route}`,
    );
  } else if (a.initiator === 'backend') {
    if (a.timer === 'age-cap') {
      out.push(
        `the backend side ends them at a fixed age even while traffic flows: a deadline rather than an idle timer: request timeouts still armed on upgraded connections (Node's \`server.requestTimeout\` / \`headersTimeout\`; an Envoy route \`timeout\`), or a maximum connection age on the load balancer or the backend`,
      );
    } else {
      out.push(
        `something between Sightline and the backend, or the backend itself, ends connections that were silent for ${p} s: an upstream load balancer's idle timeout (AWS ALB \`idle_timeout.timeout_seconds\`, 60 s by default; Azure Application Gateway; a cloud backend-service timeout), HAProxy \`timeout server\` / \`timeout tunnel\`, nginx \`proxy_read_timeout\` (60 s), or the backend server's own idle timeout; raise it above the longest silence on this route`,
      );
      out.push(heartbeat(a.periodSeconds));
    }
  } else if (a.initiator === 'client') {
    if (a.timer === 'age-cap') {
      out.push(
        `the client side ends them at a fixed age even while traffic flows: a maximum session or connection age in the client, or in a load balancer or CDN in front of Sightline`,
      );
    } else {
      out.push(
        `something in front of Sightline (a load balancer, CDN, corporate proxy or NAT between the clients and Sightline), or the client itself, ends connections silent for ${p} s: HAProxy \`timeout client\` without \`timeout tunnel\`, a CDN edge idle cut, the client library's own ping/pong timeout`,
      );
      out.push(heartbeat(a.periodSeconds));
    }
  } else {
    out.push(
      `the initiator is not recorded; compare the close reasons and the access log (\`initiator\`, \`reason\`, \`idleAtCloseMs\`) of route ${a.route}`,
    );
  }
  return out;
}
