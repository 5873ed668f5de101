/**
 * The connection record's back-pointer symbol and bit sets (connection.ts is the record). Socket
 * listeners reach their record through `kConn` (DESIGN §2.5): no closure per connection.
 */
import type { Socket } from 'node:net';
import type { Connection } from './connection.js';

export const kConn = Symbol('sightline.conn');
export type ConnSocket = Socket & { [kConn]?: Connection };

/** Flag bits: FIN received per side, socket fully closed per side, our write side ended per side. */
export const F = {
  ClientFin: 1,
  BackendFin: 2,
  ClientGone: 4,
  BackendGone: 8,
  ClientWriteEnded: 16,
  BackendWriteEnded: 32,
  Finalized: 64,
  /** Counted in the route's per-IP admission state (released at close). */
  RouteCounted: 128,
  /** The backend socket can carry bytes (its errors are no longer connect failures). */
  BackendReady: 256,
} as const;

/** What the wheel deadline of a connection currently means (`Mode`: the running mode's `deadline`). */
export const Deadline = { None: 0, InitialData: 1, Mode: 2 } as const;
export type DeadlineKind = (typeof Deadline)[keyof typeof Deadline];
