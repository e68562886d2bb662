import type { DefaultEventsMap, Socket } from 'socket.io';

/** What a guarded Socket.IO client carries in `socket.data`. */
export interface WsAuthSocketData<User = unknown> {
  user: User;
}

/**
 * A client of a `@WsAuthGateway` served by `WsAuthIoAdapter`: `user` (and
 * `data.user`, which Socket.IO's `fetchSockets()` and adapters see) is set in
 * the namespace middleware, before `handleConnection` runs. On an optional
 * gateway an anonymous client has `user === null`.
 */
export type AuthenticatedSocket<User = unknown> = Socket<
  DefaultEventsMap,
  DefaultEventsMap,
  DefaultEventsMap,
  WsAuthSocketData<User>
> & { user: User };
