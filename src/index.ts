/** Public surface (DESIGN §5): explicit exports only. */
export { SightlineProxy } from './server.js';
export type { SightlineDeps } from './server.js';
export type { ProxyStats } from './net/proxy-stats.js';
export type { SightlineOptions, ResolvedOptions, RouteConfig, ResolvedRoute } from './config/schema.js';
export type { TargetContext } from './config/types.js';
export { validateOptions, validateRoutes } from './config/validate.js';
export { loadConfigFile } from './config/load.js';
export { CloseReason, Initiator, EndKind, Phase, ALL_CLOSE_REASONS, isAbnormal } from './core/close-reasons.js';
export { CHANNEL_NAMES } from './core/channels.js';
export type {
  CloseEvent,
  AcceptEvent,
  RouteEvent,
  BackendConnectedEvent,
  LifecycleEvent,
  PhaseEvent,
  ProxyEvent,
  ConnectionView,
} from './core/channels.js';
export { SightlineError, ConfigError, ErrorCodes } from './core/errors.js';
export type { ErrorCode, ConfigIssue } from './core/errors.js';
export { ManualClock, systemClock } from './core/clock.js';
export type { Clock } from './core/clock.js';
