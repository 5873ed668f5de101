/**
 * Types that the configuration schema refers to but cannot express in zod: the shapes of the
 * user functions accepted from the library API (never from YAML/JSON files).
 */
import type { Socket } from 'node:net';

/** What a target function (host or port) and a socket handler learn about the connection. */
export interface TargetContext {
  /** Sightline's connection id (the one in logs, spans and `/api/connections`). */
  connectionId: number;
  /** Listening port the client connected to. */
  port: number;
  /** Client address, IPv4-mapped IPv6 normalised to IPv4. */
  clientIp: string;
  /** SNI from the ClientHello; null for plain TCP or a ClientHello without SNI. */
  serverName: string | null;
  /** Name of the route that matched. */
  routeName: string;
  /** True when the client spoke TLS (passthrough or terminated). */
  isTls: boolean;
}

/** Picks the backend host(s) per connection; an array is balanced like a static array. */
export type TargetHostFunction = (ctx: TargetContext) => string | string[];

/** Picks the backend port per connection. */
export type TargetPortFunction = (ctx: TargetContext) => number;

/** Takes over the client socket for `action.type: 'socket-handler'` routes. */
export type SocketHandler = (socket: Socket, ctx: TargetContext) => void | Promise<void>;
