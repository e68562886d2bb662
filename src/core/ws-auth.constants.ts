/**
 * Close codes nest-ws-auth sends on an open connection, in the private range of
 * RFC 6455 (4000-4999) and numbered like graphql-ws: 4000 + the HTTP status.
 * A browser never sees the HTTP status of a refused handshake (only 1006), so
 * these codes are how a browser client learns why it was cut off.
 */
export const WsAuthCloseCode = {
  /** The token expired, or an `auth:refresh` carried an invalid token. Reconnect with a fresh token. */
  Unauthorized: 4401,
  /** The user was revoked (`WsAuthConnections.disconnectUser`) or refreshed as somebody else. */
  Forbidden: 4403,
} as const;

export type WsAuthCloseCode = (typeof WsAuthCloseCode)[keyof typeof WsAuthCloseCode];

/**
 * The event a client sends to swap its token on an open connection: ws
 * `{ event, data: { token } }`; Socket.IO `socket.emit('auth:refresh', { token }, ack)`.
 */
export const WS_AUTH_REFRESH_EVENT = 'auth:refresh';

/** The event the server answers a successful ws refresh with: `{ event, data: { exp } }` (Socket.IO answers through the ack). */
export const WS_AUTH_REFRESHED_EVENT = 'auth:refreshed';

/**
 * Socket.IO has no close codes: before the server disconnects a client
 * (expiry, revocation, failed refresh) it sends this event with
 * `{ code, reason }`, the code and reason a ws client would get.
 */
export const WS_AUTH_CLOSED_EVENT = 'auth:closed';

/**
 * Prefix of the `Sec-WebSocket-Protocol` entry that carries a token, for browsers
 * (which cannot set headers): `new WebSocket(url, ['chat', 'bearer.' + token])`.
 */
export const WS_AUTH_PROTOCOL_PREFIX = 'bearer.';
