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
    if (r.from > r.to) ctx.addIssue({ code: 'custom', message: `port range is reversed: from ${r.from} is greater than to ${r.to}` });
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
  ports: portsSchema,
  domains: z
    .union([domainSchema, z.array(domainSchema).min(1, 'list at least one domain')], {
      error: 'expected a domain or an array of domains',
    })
    .optional(),
  clientIp: ipListSchema.optional(),
  tlsVersion: z.array(z.enum(tlsVersionNames)).optional(),
  path: nonEmpty().optional(),
  // Paths are case-sensitive (RFC 3986 §6.2.2.1); a backend that is not can ask for this.
  pathCaseInsensitive: z.boolean().optional(),
  headers: z.record(z.string(), z.string()).optional(),
});

// ---- action ----------------------------------------------------------------------------------

export const targetSchema = z.strictObject({
  host: z.union([nonEmpty(), z.array(nonEmpty()).min(1, 'list at least one host'), fn<TargetHostFunction>()], {
    error: 'expected a host name, an array of host names or a function',
  }),
  port: z.union([portNumberSchema, z.literal('preserve'), fn<TargetPortFunction>()], {
    error: "expected a port number, 'preserve' or a function",
  }),
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
    mode: z.enum(['passthrough', 'terminate', 'terminate-and-reencrypt']),
    certificate: certificateSchema.optional(),
    // TLS 1.0 and 1.1 are deprecated (RFC 8996); 1.2 is the oldest version still considered safe.
    minVersion: tlsVersionRange.default('TLSv1.2'),
    maxVersion: tlsVersionRange.optional(),
    ciphers: nonEmpty().optional(),
    // A handshake not finished in 10 s is a stalled or hostile client, not a slow network.
    handshakeTimeout: durationMs().default(10_000),
    // Verify the backend certificate when re-encrypting: opting out must be explicit.
    rejectUnauthorized: z.boolean().default(true),
    ca: nonEmpty().optional(),
    caFile: nonEmpty().optional(),
    servername: nonEmpty().optional(),
    // A request whose Host names a domain served by another certificate than the one this
    // connection's SNI chose gets 421 Misdirected Request (RFC 9110 §15.5.20) unless allowed.
    allowMisdirected: z.boolean().optional(),
  })
  .superRefine((t, ctx) => {
    if (t.maxVersion === 'TLSv1.2' && t.minVersion === 'TLSv1.3') {
      ctx.addIssue({ code: 'custom', path: ['maxVersion'], message: 'maxVersion TLSv1.2 is lower than minVersion TLSv1.3' });
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
    type: z.enum(['forward', 'socket-handler']),
    target: targetSchema.optional(),
    tls: tlsSchema.optional(),
    websocket: websocketSchema.optional(),
    sendProxyProtocol: proxyProtocolOutSchema.optional(),
    socketHandler: fn<SocketHandler>().optional(),
    // No default here: a terminated route, or one matching on path or headers, speaks HTTP;
    // anything else is a byte tunnel (decided when the route is compiled).
    protocol: z.enum(['tcp', 'http']).optional(),
  })
  .superRefine((a, ctx) => {
    if (a.protocol === 'http' && a.tls?.mode === 'passthrough') {
      ctx.addIssue({
        code: 'custom',
        path: ['protocol'],
        message: "protocol 'http' cannot be read on a passthrough route (the bytes stay encrypted); use tls.mode 'terminate'",
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
  ipAllowList: ipListSchema.optional(),
  ipBlockList: ipListSchema.optional(),
  // 0 = unlimited: a route adds no cap of its own unless asked (global and per-IP caps still apply).
  maxConnections: count().default(0),
  // 0 = unlimited: the global maxConnectionsPerIP already bounds each client.
  maxConnectionsPerIP: count().default(0),
});

export const routeSchema = z.strictObject({
  name: nonEmpty().optional(),
  // Equal priorities keep the order of declaration, so plain route lists need no priorities.
  priority: z.number().default(0),
  // A declared route is live unless switched off explicitly.
  enabled: z.boolean().default(true),
  match: matchSchema,
  action: actionSchema,
  // Always present after parsing (all limits 0 = unlimited) so the limiter never tests for it.
  security: routeSecuritySchema.prefault({}),
}).superRefine((r, ctx) => {
  const http = r.action.protocol ?? (r.action.tls?.mode === 'terminate' || r.action.tls?.mode === 'terminate-and-reencrypt' || r.match.path !== undefined || r.match.headers !== undefined ? 'http' : 'tcp');
  if (http === 'http') return;
  for (const key of ['path', 'headers'] as const) {
    if (r.match[key] !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['match', key], message: `match.${key} needs an HTTP route (action.protocol 'http' on a plain or terminated route)` });
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
