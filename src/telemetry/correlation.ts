/**
 * Cross-hop correlation fields (issue 14): this connection's unique id and the previous hop's
 * (from a trusted PROXY v2 header), in the same shape for access logs, spans and close records,
 * so that one query joins this proxy's line to the load balancer's in front and the backend's
 * behind (which receives the unique id in its own PROXY v2 header).
 */
import type { Attributes } from '@opentelemetry/api';
import type { ConnectionView } from '../core/channels.js';

export const ATTR_UNIQUE_ID = 'sightline.connection.unique_id';
export const ATTR_PREVIOUS_HOP_ID = 'sightline.connection.previous_hop_id';

export interface CorrelationFields {
  readonly uniqueId: string | null;
  readonly previousHopId: string | null;
}

/** Log / JSON fields: both keys always present (null when unknown) so queries need no exists(). */
export function correlationFields(c: ConnectionView): CorrelationFields {
  return { uniqueId: c.uniqueId ?? null, previousHopId: c.previousHopId ?? null };
}

/** Span attributes: only what is known (OTel attributes have no null). */
export function correlationAttributes(c: ConnectionView, into: Attributes): Attributes {
  if (c.uniqueId !== undefined) into[ATTR_UNIQUE_ID] = c.uniqueId;
  if (c.previousHopId != null) into[ATTR_PREVIOUS_HOP_ID] = c.previousHopId;
  return into;
}
