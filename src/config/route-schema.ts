/**
 * The route half of the configuration schema (compat-semantics §2). Assembled into the one options
 * schema by schema.ts, which is what the rest of the code imports.
 * Every default carries its reason on the line above it.
 */
import { z } from 'zod';
import { IP_PATTERN_HELP, isIpPattern } from './ip-pattern.js';
import type { SocketHandler, TargetHostFunction, TargetPortFunction } from './types.js';

// ---- primitives ------------------------------------------------------------------------------

/** A duration in whole milliseconds. */
export const durationMs = (): z.ZodNumber =>
  z.number().int('expected whole milliseconds').nonnegative('a duration must not be negative');

/** A count (connections, bytes); `0` means "unlimited" wherever the option says so. */
export const count = (): z.ZodNumber => z.number().int('expected a whole number').nonnegative('must not be negative');

/**
 * A member only the library API can supply (a function). `typeMismatch` lets the error formatter
 * treat a failure here like a wrong type when it explains a union.
 */
export const fn = <T>(): z.ZodType<T> =>
  z.custom<T>((v) => typeof v === 'function', { error: 'expected a function', params: { typeMismatch: true } });

export const ipPatternSchema = z
  .string()
  .refine(isIpPattern, { error: (iss) => `${JSON.stringify(iss.input)} is not ${IP_PATTERN_HELP}` });
export const ipListSchema = z.array(ipPatternSchema);

const PORT_RANGE_MESSAGE = 'a port must be between 1 and 65535';
export const portNumberSchema = z
  .number()
  .int('a port must be a whole number')
  .min(1, PORT_RANGE_MESSAGE)
  .max(65535, PORT_RANGE_MESSAGE);

const nonEmpty = (): z.ZodString => z.string().min(1, 'must not be empty');

// ---- match -----------------------------------------------------------------------------------

export const portRangeSchema = z
  .strictObject({ from: portNumberSchema, to: portNumberSchema })
  .superRefine((r, ctx) => {
    if (r.from > r.to)
      ctx.addIssue({ code: 'custom', message: `port range is reversed: from ${r.from} is greater than to ${r.to}` });
  });

const portEntrySchema = z.union([portNumberSchema, portRangeSchema], {
  error: 'expected a port number or {from, to}',
});

export const portsSchema = z.union(
  [portNumberSchema, z.array(portEntrySchema).min(1, 'list at least one port'), portRangeSchema],
  { error: 'expected a port number, an array of ports or {from, to}' },
);

const domainSchema = nonEmpty().regex(/^[^\s/:]+$/, 'a domain must not contain spaces, "/" or ":"');

export const tlsVersionNames = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;

export const matchSchema = z.strictObject({
  ports: portsSchema.describe('Listener port(s): a number, an array, or {from, to} ranges. One listener per port.'),
  domains: z
    .union([domainSchema, z.array(domainSchema).min(1, 'list at least one domain')], {
      error: 'expected a domain or an array of domains',
    })
    .optional()
    .describe('TLS SNI (or Host on HTTP routes): exact names or * wildcards, case-insensitive.'),
  clientIp: ipListSchema.optional().describe('Client addresses, CIDRs or * patterns.'),
  tlsVersion: z.array(z.enum(tlsVersionNames)).optional().describe("The ClientHello's TLS version."),
  path: nonEmpty().optional().describe('HTTP routes: request path with * wildcards (query ignored).'),
  // Paths are case-sensitive (RFC 3986 §6.2.2.1); a backend that is not can ask for this.
  pathCaseInsensitive: z.boolean().optional().describe('HTTP routes: match `path` without regard to case.'),
  headers: z
    .record(z.string(), z.string())
    .optional()
    .describe('HTTP routes: {name: value} request headers, value may use *.'),
});

// ---- action ----------------------------------------------------------------------------------

export const targetSchema = z.strictObject({
  host: z
    .union([nonEmpty(), z.array(nonEmpty()).min(1, 'list at least one host'), fn<TargetHostFunction>()], {
      error: 'expected a host name, an array of host names or a function',
    })
    .describe('Backend host, a list (round-robin) or, in the library, a function of the connection.'),
  port: z
    .union([portNumberSchema, z.literal('preserve'), fn<TargetPortFunction>()], {
      error: "expected a port number, 'preserve' or a function",
    })
    .describe("Backend port, 'preserve' (the port the client connected to) or, in the library, a function."),
});

const pemCertificateSchema = z.strictObject({ key: nonEmpty(), cert: nonEmpty(), ca: nonEmpty().optional() });
const fileCertificateSchema = z.strictObject({
  keyFile: nonEmpty(),
  certFile: nonEmpty(),
  caFile: nonEmpty().optional(),
});
export const certificateSchema = z.union([z.literal('auto'), pemCertificateSchema, fileCertificateSchema], {
  error: "expected 'auto', {key, cert, ca?} (PEM text) or {keyFile, certFile, caFile?} (paths)",
});

const tlsVersionRange = z.enum(['TLSv1.2', 'TLSv1.3']);

export const tlsSchema = z
  .strictObject({
    mode: z
      .enum(['passthrough', 'terminate', 'terminate-and-reencrypt'])
      .describe(
        'passthrough: route on SNI, bytes stay encrypted; terminate: decrypt here; terminate-and-reencrypt: decrypt, then TLS to the backend.',
      ),
    certificate: certificateSchema
      .optional()
      .describe(
        "The route's certificate: {key, cert, ca?} as PEM text or {keyFile, certFile, caFile?}; 'auto' (ACME) is not supported.",
      ),
    // TLS 1.0 and 1.1 are deprecated (RFC 8996); 1.2 is the oldest version still considered safe.
    minVersion: tlsVersionRange.default('TLSv1.2'),
    maxVersion: tlsVersionRange.optional().describe('Highest TLS version offered to clients.'),
    ciphers: nonEmpty().optional().describe('OpenSSL cipher list for TLS 1.2.'),
    // A handshake not finished in 10 s is a stalled or hostile client, not a slow network.
    handshakeTimeout: durationMs().default(10_000),
    // Verify the backend certificate when re-encrypting: opting out must be explicit.
    rejectUnauthorized: z.boolean().default(true),
    ca: nonEmpty().optional().describe('Re-encrypt: PEM of a private CA that signs the backend certificate.'),
    caFile: nonEmpty().optional().describe('Re-encrypt: the same as a file path.'),
    servername: nonEmpty()
      .optional()
      .describe("Re-encrypt: SNI sent to the backend (default: the target host name, else the client's SNI)."),
    // A request whose Host names a domain served by another certificate than the one this
    // connection's SNI chose gets 421 Misdirected Request (RFC 9110 §15.5.20) unless allowed.
    allowMisdirected: z
      .boolean()
      .optional()
      .describe('Terminate: let a request whose Host another certificate serves through (no 421).'),
  })
  .superRefine((t, ctx) => {
    if (t.maxVersion === 'TLSv1.2' && t.minVersion === 'TLSv1.3') {
      ctx.addIssue({
        code: 'custom',
        path: ['maxVersion'],
        message: 'maxVersion TLSv1.2 is lower than minVersion TLSv1.3',
      });
    }
  });

export const websocketSchema = z.strictObject({
  // A terminated WebSocket route speaks WebSocket unless told not to.
  enabled: z.boolean().default(true),
  // 30 s is below every common idle cutoff between client and proxy (load balancers: 60 s).
  pingInterval: durationMs().default(30_000),
  // A peer that cannot answer a ping within 10 s is gone or hopelessly congested.
  pingTimeout: durationMs().default(10_000),
  // 100 MiB bounds memory per message while allowing large binary frames (ws uses the same cap).
  maxPayloadSize: count().default(104_857_600),
});

export const proxyProtocolOutSchema = z.union([z.boolean(), z.enum(['v1', 'v2'])], {
  error: "expected true, false, 'v1' or 'v2'",
});

export const actionSchema = z
  .strictObject({
    type: z
      .enum(['forward', 'socket-handler'])
      .describe("'forward' to a target; 'socket-handler' hands the socket to a function (library only)."),
    target: targetSchema.optional().describe("The backend of a 'forward' action."),
    tls: tlsSchema.optional().describe('TLS handling; without it the route forwards bytes as they come.'),
    websocket: websocketSchema
      .optional()
      .describe('WebSocket heartbeat and limits on HTTP routes (ignored on passthrough routes).'),
    sendProxyProtocol: proxyProtocolOutSchema
      .optional()
      .describe('Per route: send a PROXY protocol header (overrides the global option).'),
    socketHandler: fn<SocketHandler>().optional(),
    // No default here: a terminated route, or one matching on path or headers, speaks HTTP;
    // anything else is a byte tunnel (decided when the route is compiled).
    protocol: z
      .enum(['tcp', 'http'])
      .optional()
      .describe("'http' parses HTTP/1.1 (per-request routing, pooling, WebSocket); 'tcp' is a byte tunnel."),
  })
  .superRefine((a, ctx) => {
    if (a.protocol === 'http' && a.tls?.mode === 'passthrough') {
      ctx.addIssue({
        code: 'custom',
        path: ['protocol'],
        message:
          "protocol 'http' cannot be read on a passthrough route (the bytes stay encrypted); use tls.mode 'terminate'",
      });
    }
    if (a.type === 'forward' && a.target === undefined) {
      ctx.addIssue({ code: 'custom', path: ['target'], message: "a 'forward' action needs target: { host, port }" });
    }
    if (a.type === 'socket-handler' && a.socketHandler === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['socketHandler'],
        message: "a 'socket-handler' action needs socketHandler (a function; library API only)",
      });
    }
  });

// ---- request paths (http.path; applies before any route is chosen) -------------------------------

export const pathPolicySchema = z.strictObject({
  // %2F, %5C and a raw backslash are separators to some backends and not to others: a route's
  // path or IP list could be bypassed through them, so refuse unless told otherwise.
  escapedSlashes: z.enum(['reject', 'keep', 'decode']).default('reject'),
  // `;` path parameters are stripped by some backends before matching (as above).
  pathParameters: z.enum(['reject', 'keep', 'strip']).default('reject'),
});

// ---- route -----------------------------------------------------------------------------------

export const routeSecuritySchema = z.strictObject({
  ipAllowList: ipListSchema
    .optional()
    .describe('Only these client addresses may use the route (checked per request on HTTP routes).'),
  ipBlockList: ipListSchema
    .optional()
    .describe('These client addresses may not use the route (wins over the allow list).'),
  // 0 = unlimited: a route adds no cap of its own unless asked (global and per-IP caps still apply).
  maxConnections: count().default(0),
  // 0 = unlimited: the global maxConnectionsPerIP already bounds each client.
  maxConnectionsPerIP: count().default(0),
});

export const routeSchema = z
  .strictObject({
    name: nonEmpty().optional().describe('Unique; labels metrics, logs and spans (default route-<index>).'),
    // Equal priorities keep the order of declaration, so plain route lists need no priorities.
    priority: z.number().default(0),
    // A declared route is live unless switched off explicitly.
    enabled: z.boolean().default(true),
    match: matchSchema.describe('What the route takes: ports, then SNI, client IP, TLS version, path, headers.'),
    action: actionSchema.describe('What happens to a matched connection.'),
    // Always present after parsing (all limits 0 = unlimited) so the limiter never tests for it.
    security: routeSecuritySchema.prefault({}),
  })
  .superRefine((r, ctx) => {
    const http =
      r.action.protocol ??
      (r.action.tls?.mode === 'terminate' ||
      r.action.tls?.mode === 'terminate-and-reencrypt' ||
      r.match.path !== undefined ||
      r.match.headers !== undefined
        ? 'http'
        : 'tcp');
    if (http === 'http') return;
    for (const key of ['path', 'headers'] as const) {
      if (r.match[key] !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['match', key],
          message: `match.${key} needs an HTTP route (action.protocol 'http' on a plain or terminated route)`,
        });
      }
    }
  });

type ParsedRoute = z.output<typeof routeSchema>;

/** Routes after parsing: every route has a name (`route-<index>` when none was given). */
export const routesSchema = z.array(routeSchema).transform((routes, ctx) => {
  const named = routes.map((r, i): ParsedRoute & { name: string } => ({ ...r, name: r.name ?? `route-${i}` }));
  const seen = new Map<string, number>();
  named.forEach((r, i) => {
    const first = seen.get(r.name);
    if (first === undefined) seen.set(r.name, i);
    else {
      ctx.issues.push({
        code: 'custom',
        path: [i, 'name'],
        input: r.name,
        message: `duplicate route name "${r.name}" (also routes[${first}]); names label metrics and must be unique`,
      });
    }
  });
  return named;
});
