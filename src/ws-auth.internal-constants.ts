// Symbol.for: the CommonJS and ES module builds of the package share these keys, so a
// gateway decorated by one copy is guarded by the other's adapter (see COMPAT-NOTES.md).

/** Injection token of the validated, defaulted options (see `resolveWsAuthOptions`). */
export const WS_AUTH_SETTINGS = Symbol.for('nest-ws-auth.WS_AUTH_SETTINGS');

/** Class metadata key: the `auth` options of a `@WsAuthGateway`. */
export const WS_AUTH_GATEWAY_METADATA = Symbol.for('nest-ws-auth.WS_AUTH_GATEWAY_METADATA');

/** Gateway option key by which `@WsAuthGateway` hands its class to `WsAuthAdapter.create`. */
export const WS_AUTH_GATEWAY = Symbol.for('nest-ws-auth.WS_AUTH_GATEWAY');

/** Method/class metadata key of `@WsRoles`. */
export const WS_ROLES_METADATA = Symbol.for('nest-ws-auth.WS_ROLES_METADATA');

/** Injection token of the `ClusterLink` (`null` without the `cluster` option). */
export const CLUSTER_LINK = Symbol.for('nest-ws-auth.CLUSTER_LINK');

/** Injection token of the `ConnectionRegistry` behind `WsAuthConnections`. */
export const CONNECTION_REGISTRY = Symbol.for('nest-ws-auth.CONNECTION_REGISTRY');

/** `WebSocket.OPEN`, without loading ws at run time (Nest's adapter brings its own copy). */
export const OPEN = 1;

/** RFC 6455: a close reason is at most 123 bytes (ws throws a RangeError beyond). */
export const MAX_CLOSE_REASON_BYTES = 123;

/** Node's timers fire at once for a delay above 2^31-1 ms (about 24.8 days). */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/** Injection token of the app's `SwappableClock`: the time and timer of expiry (a test swaps its own in). */
export const WS_AUTH_CLOCK = Symbol('WS_AUTH_CLOCK');

/** Injection token of the `AuthObserver` (`null` with neither `events` nor `metrics`). */
export const AUTH_OBSERVER = Symbol('AUTH_OBSERVER');

/** Injection token of `WsAuthMetrics` (`null` without `metrics`). */
export const WS_AUTH_METRICS = Symbol('WS_AUTH_METRICS');

/** Injection token of the `HandshakeGuardsPort` (the app's guards at the handshake). */
export const HANDSHAKE_GUARDS = Symbol('HANDSHAKE_GUARDS');
