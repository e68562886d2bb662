// The core's own tokens live in core/core.constants.ts; these belong to the layers above it.
export {
  AUTH_OBSERVER,
  CLUSTER_LINK,
  CONNECTION_REGISTRY,
  HANDSHAKE_GUARDS,
  MAX_TIMER_DELAY_MS,
  STRATEGY_REGISTRY,
  WS_AUTH_CLOCK,
  WS_AUTH_SETTINGS,
} from './core/core.constants.js';

// Symbol.for: the CommonJS and ES module builds of the package share these keys, so a
// gateway decorated by one copy is guarded by the other's adapter (see COMPAT-NOTES.md).

/** Class metadata key: the `auth` options of a `@WsAuthGateway`. */
export const WS_AUTH_GATEWAY_METADATA = Symbol.for('nest-ws-auth.WS_AUTH_GATEWAY_METADATA');

/** Gateway option key by which `@WsAuthGateway` hands its class to `WsAuthAdapter.create`. */
export const WS_AUTH_GATEWAY = Symbol.for('nest-ws-auth.WS_AUTH_GATEWAY');

/** Method/class metadata key of `@WsRoles`. */
export const WS_ROLES_METADATA = Symbol.for('nest-ws-auth.WS_ROLES_METADATA');

/** `WebSocket.OPEN`, without loading ws at run time (Nest's adapter brings its own copy). */
export const OPEN = 1;

/** RFC 6455: a close reason is at most 123 bytes (ws throws a RangeError beyond). */
export const MAX_CLOSE_REASON_BYTES = 123;

/** Injection token of `WsAuthMetrics` (`null` without `metrics`). */
export const WS_AUTH_METRICS = Symbol('WS_AUTH_METRICS');

