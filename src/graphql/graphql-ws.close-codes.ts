/**
 * How a graphql-ws connection is refused or closed by nest-ws-auth: graphql-ws's
 * own close codes (GraphQL over WebSocket protocol), where it has one. The
 * graphql-ws client retries 4403, 4408 and 4503 (with `connectionParams` asked
 * again, so a function there hands a fresh token), and gives up at once on
 * 4400, 4401, 4429 and 4500.
 */
export const GraphQLWsCloseCode = {
  /** The token was sent twice or in two places, or `connectionParams.token` is not a string. Not retried. */
  BadRequest: 4400,
  /** The token expired on an open connection (`'token expired'`), a revoked token (`revokeToken`); graphql-ws: a subscribe before the ack. Not retried. */
  Unauthorized: 4401,
  /** Refused at `connection_init` (missing or invalid credentials, origin, roles; the reason says which), or `disconnectUser` / `revokeUser`. Retried. */
  Forbidden: 4403,
  /** No `connection_init` within `handshakeTimeoutMs`. Retried. */
  ConnectionInitialisationTimeout: 4408,
  /** `maxConnectionsPerUser` reached, or too many failed handshakes from the address (`failedHandshakes`). Not retried. */
  TooManyRequests: 4429,
  /** A strategy, `resolveUser` or a hook failed (logged without credentials). Not retried. */
  InternalServerError: 4500,
  /** Authentication outlasted `handshakeTimeoutMs`, the key set is unavailable, or the app is shutting down. Retried. */
  ServiceUnavailable: 4503,
} as const;

export type GraphQLWsCloseCode = (typeof GraphQLWsCloseCode)[keyof typeof GraphQLWsCloseCode];
