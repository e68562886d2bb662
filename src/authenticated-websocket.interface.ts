import type { WebSocket } from 'ws';

/**
 * A client of a `@WsAuthGateway`: `user` is set during the handshake, before
 * `handleConnection` runs. On an optional gateway an anonymous client has
 * `user === null`: type it `AuthenticatedWebSocket<User | null>`.
 */
export type AuthenticatedWebSocket<User = unknown> = WebSocket & { user: User };
