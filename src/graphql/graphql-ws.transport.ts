import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { markClosed } from '../core/closed-clients.js';
import type { ClientTransport } from '../core/connection.registry.js';
import { CloseEventLink, type HandshakeLink } from '../core/handshake.interfaces.js';
import { OPEN } from '../ws-auth.internal-constants.js';

/** The upgrade request of each graphql-ws socket the library accepted: what resolvers read as `context.req`. */
const requests = new WeakMap<WebSocket, IncomingMessage & { user?: unknown }>();

/** Notes the upgrade request of an accepted socket (before the registry sets its user). */
export function noteRequest(socket: WebSocket, request: IncomingMessage): void {
  requests.set(socket, request);
}

/**
 * How the core manages a graphql-ws socket (@nestjs/graphql's own ws server):
 * the user goes on the upgrade request (`context.req.user` in resolvers); a
 * close detaches graphql-ws's message listener first, so that no operation
 * already on its way starts, then closes with the graphql-ws close code.
 */
export const graphqlWsTransport: ClientTransport<WebSocket> = {
  name: 'graphql-ws',
  isOpen: (socket) => socket.readyState === OPEN,
  setUser: (socket, user) => {
    (socket as WebSocket & { user?: unknown }).user = user;
    const request = requests.get(socket);
    if (request) {
      request.user = user;
    }
  },
  close: (socket, code, reason) => {
    markClosed(socket);
    const request = requests.get(socket);
    if (request) {
      markClosed(request);
    }
    socket.removeAllListeners('message');
    socket.close(code, reason);
  },
  watch: (socket, listener) => {
    socket.on('close', listener);
  },
  unwatch: (socket, listener) => {
    socket.removeListener('close', listener);
  },
};

const isClosing = (socket: WebSocket): boolean => socket.readyState !== OPEN;

/** An open graphql-ws socket waiting for its verdict, as the core's HandshakeLink. */
export function graphqlWsLink(socket: WebSocket): HandshakeLink {
  return new CloseEventLink(socket, isClosing);
}
