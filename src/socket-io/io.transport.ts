import type { Socket } from 'socket.io';
import { markClosed } from '../core/closed-clients.js';
import type { ClientTransport } from '../core/connection.registry.js';
import { CloseEventLink, type HandshakeLink } from '../core/handshake.interfaces.js';
import { WS_AUTH_CLOSED_EVENT } from '../core/ws-auth.constants.js';

/** Socket.IO's `disconnect` event: a socket leaves its namespace. */
const DISCONNECT = 'disconnect';

/**
 * How the core manages a Socket.IO client. Socket.IO has no close codes, so a
 * close is an `auth:closed` event with `{ code, reason }`, then a server-side
 * `disconnect(true)`: socket.io-client does not reconnect after it by itself
 * (cutting only the transport would let a revoked client straight back in).
 * Events that arrive afterwards are dropped by Socket.IO (`connected` is false).
 */
export const ioTransport: ClientTransport<Socket> = {
  name: 'socket.io',
  isOpen: (socket) => socket.connected,
  setUser: (socket, user) => {
    (socket as Socket & { user?: unknown }).user = user;
    socket.data.user = user;
  },
  close: (socket, code, reason) => {
    markClosed(socket);
    socket.emit(WS_AUTH_CLOSED_EVENT, { code, reason });
    socket.disconnect(true);
  },
  watch: (socket, listener) => {
    socket.on(DISCONNECT, listener);
  },
  unwatch: (socket, listener) => {
    socket.off(DISCONNECT, listener);
  },
};

const isClosed = (conn: Socket['conn']): boolean => conn.readyState !== 'open';

/** The engine.io connection under a socket, as the core's HandshakeLink. */
export function connectionLink(socket: Socket): HandshakeLink {
  return new CloseEventLink(socket.conn, isClosed);
}
