import type { WebSocket } from 'ws';
import { markClosed } from '../core/closed-clients.js';
import type { ClientTransport } from '../core/connection.registry.js';
import { CloseEventLink, type HandshakeLink } from '../core/handshake.interfaces.js';
import type { AuthenticatedWebSocket } from '../authenticated-websocket.interface.js';
import type { Duplex } from 'node:stream';
import { OPEN } from '../ws-auth.internal-constants.js';


/** How the core manages a `ws` client: close codes, and no handler after the close. */
export const wsTransport: ClientTransport<WebSocket> = {
  name: 'ws',
  isOpen: (client) => client.readyState === OPEN,
  setUser: (client, user) => {
    (client as AuthenticatedWebSocket).user = user;
  },
  close: (client, code, reason) => {
    markClosed(client);
    // ws still emits the messages already on their way while the close handshake
    // runs; detaching the message listeners (Nest's among them) makes sure no
    // handler runs for them.
    client.removeAllListeners('message');
    client.close(code, reason);
  },
  watch: (client, listener) => {
    client.on('close', listener);
  },
  unwatch: (client, listener) => {
    client.removeListener('close', listener);
  },
};

const isDestroyed = (socket: Duplex): boolean => socket.destroyed;

/** The TCP socket of an upgrade request, as the core's HandshakeLink. */
export function socketLink(socket: Duplex): HandshakeLink {
  return new CloseEventLink(socket, isDestroyed);
}
