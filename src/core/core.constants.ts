// Symbol.for: the CommonJS and ES module builds of the package share these keys, so a
// gateway decorated by one copy is guarded by the other's adapter (see COMPAT-NOTES.md).

/** Injection token of the validated, defaulted options (`WsAuthSettings`; the core reads `CoreSettings`). */
export const WS_AUTH_SETTINGS = Symbol.for('nest-ws-auth.WS_AUTH_SETTINGS');

/** Injection token of the `ClusterLink` (`null` without the `cluster` option). */
export const CLUSTER_LINK = Symbol.for('nest-ws-auth.CLUSTER_LINK');

/** Injection token of the `ConnectionRegistry` behind `WsAuthConnections`. */
export const CONNECTION_REGISTRY = Symbol.for('nest-ws-auth.CONNECTION_REGISTRY');

/** Node's timers fire at once for a delay above 2^31-1 ms (about 24.8 days). */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/** Injection token of the app's `SwappableClock`: the time and timer of expiry (a test swaps its own in). */
export const WS_AUTH_CLOCK = Symbol('WS_AUTH_CLOCK');

/** Injection token of the `AuthObserver` port (`null` with neither `events` nor `metrics`). */
export const AUTH_OBSERVER = Symbol('AUTH_OBSERVER');

/** Injection token of the `HandshakeGuardsPort` (the app's guards at the handshake). */
export const HANDSHAKE_GUARDS = Symbol('HANDSHAKE_GUARDS');

/** Injection token of the `StrategyRegistry`: how the core finds the strategies gateways name. */
export const STRATEGY_REGISTRY = Symbol('STRATEGY_REGISTRY');
