/**
 * One error root with stable codes (DESIGN §2.1). Each code says how a session that hits it ends.
 * docs/errors.md is kept in step with this registry by test/unit/core/errors.test.ts.
 */
import { CloseReason } from './close-reasons.js';

export interface ErrorCodeInfo {
  readonly message: string;
  /** Close reason of the connection that hits it, or null when it is not about one connection. */
  readonly closeReason: CloseReason | null;
  /** Process exit code when it stops the CLI. */
  readonly exitCode: number;
}

export const ErrorCodes = {
  SL_ERR_CONFIG_INVALID: { message: 'configuration is invalid', closeReason: null, exitCode: 2 },
  SL_ERR_CONFIG_READ: { message: 'configuration file cannot be read or parsed', closeReason: null, exitCode: 2 },
  SL_ERR_LISTEN: { message: 'cannot listen on a configured port', closeReason: null, exitCode: 2 },
  SL_ERR_ALREADY_STARTED: { message: 'proxy is already started', closeReason: null, exitCode: 2 },
  SL_ERR_TARGET: {
    message: 'route target could not be resolved',
    closeReason: CloseReason.TargetResolutionFailed,
    exitCode: 1,
  },
  SL_ERR_CLIENT_HELLO: {
    message: 'malformed TLS ClientHello',
    closeReason: CloseReason.ClientHelloInvalid,
    exitCode: 1,
  },
  SL_ERR_PROXY_HEADER: {
    message: 'malformed PROXY protocol header',
    closeReason: CloseReason.ProxyProtocolInvalid,
    exitCode: 1,
  },
  SL_ERR_HTTP_REQUEST: { message: 'malformed HTTP request', closeReason: CloseReason.HttpBadRequest, exitCode: 1 },
  SL_ERR_HTTP_RESPONSE: {
    message: 'HTTP response from the backend failed',
    closeReason: CloseReason.HttpBadResponse,
    exitCode: 1,
  },
  SL_ERR_WEBSOCKET: { message: 'WebSocket protocol violation', closeReason: CloseReason.WsProtocolError, exitCode: 1 },
} as const satisfies Record<string, ErrorCodeInfo>;

export type ErrorCode = keyof typeof ErrorCodes;

export class SightlineError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, detail?: string, options?: { cause?: unknown }) {
    super(detail ? `${ErrorCodes[code].message}: ${detail}` : ErrorCodes[code].message, options);
    this.name = 'SightlineError';
    this.code = code;
  }
  get exitCode(): number {
    return ErrorCodes[this.code].exitCode;
  }
}

/** One problem found in a configuration, with the key path and a hint. */
export interface ConfigIssue {
  /** Dotted path such as `routes[0].match.ports`; empty for the root. */
  readonly path: string;
  readonly message: string;
  /** e.g. `did you mean "domains"?` */
  readonly hint?: string | undefined;
}

export class ConfigError extends SightlineError {
  readonly issues: readonly ConfigIssue[];
  constructor(issues: readonly ConfigIssue[], source?: string) {
    const lines = issues.map((i) => `${i.path || '(root)'}: ${i.message}${i.hint ? ` (${i.hint})` : ''}`);
    super('SL_ERR_CONFIG_INVALID', `${source ? `${source}: ` : ''}${lines.join('; ')}`);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}
