import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server } from 'socket.io';
import { clientAddress } from '../core/failed-handshakes.limiter.js';

/**
 * What an Engine.IO session is bound to, taken from the request that opened it: its address, and the
 * `Authorization` header if it had one (clients resend their `extraHeaders` with every polling request).
 * Most sessions have no header: their owner is the address string alone.
 */
type SessionOwner = string | { readonly address: string; readonly authorization: Buffer };

const addressOf = (owner: SessionOwner): string => (typeof owner === 'string' ? owner : owner.address);

/** An Engine.IO request as its middlewares see it: the query is parsed already. */
type EngineRequest = IncomingMessage & { _query?: Record<string, string | undefined> };
type EngineSocket = { id: string; request: IncomingMessage; close(): void };
type EngineMiddleware = (request: EngineRequest, response: ServerResponse, next: (error?: Error) => void) => void;

const bound = new WeakSet<object>();
const STOLEN = new Error('nest-ws-auth: this Engine.IO session belongs to another client');

/**
 * An Engine.IO `sid` is a bearer secret (socketio/socket.io#3416): any polling
 * GET/POST or websocket upgrade that carries it acts as that session, and it
 * travels in every polling URL, so proxy and access logs hold it. On a server
 * with a guarded namespace every later request of a session must come from the
 * address that opened it (as `failedHandshakes` counts it: `trustProxy` applies)
 * and, for polling requests, carry the same `Authorization` header if the opening request had one (browsers
 * cannot send it with the websocket upgrade).
 * A request that does not match is refused (400) and the session it named is
 * closed: a leaked `sid` is spent, its owner reconnects and authenticates anew.
 * Nothing of the session reaches the other client.
 *
 * Cost: one look-up and one address parse per Engine.IO HTTP request after the
 * first, none per message on an open websocket; an address string per session.
 */
export function bindEngineSessions(server: Server, trustedProxies: number): void {
  const engine = server.engine as unknown as {
    use(middleware: EngineMiddleware): void;
    on(event: 'connection', listener: (socket: EngineSocket) => void): void;
    clients: Record<string, EngineSocket | undefined>;
  };
  if (bound.has(engine)) {
    return;
  }
  bound.add(engine);
  // Kept on the engine's own socket objects (weakly): nothing to clean up when a session ends.
  const owners = new WeakMap<EngineSocket, SessionOwner>();
  const ownerOf = (request: IncomingMessage): SessionOwner => {
    const authorization = request.headers.authorization;
    const address = clientAddress(request, request.socket?.remoteAddress, trustedProxies);
    return authorization === undefined ? address : { address, authorization: Buffer.from(authorization) };
  };
  engine.on('connection', (socket) => owners.set(socket, ownerOf(socket.request)));
  // Engine.IO runs its middlewares on every HTTP request, before it looks the sid up.
  engine.use((request, _response, next) => {
    const sid = request._query?.sid;
    const session = sid === undefined ? undefined : engine.clients[sid];
    const owner = session === undefined ? undefined : owners.get(session);
    if (owner === undefined || sameOwner(owner, ownerOf(request), request._query?.transport === 'polling')) {
      return next();
    }
    session!.close();
    next(STOLEN);
  });
}

function sameOwner(owner: SessionOwner, candidate: SessionOwner, polling: boolean): boolean {
  if (addressOf(owner) !== addressOf(candidate)) {
    return false;
  }
  const expected = typeof owner === 'string' ? undefined : owner.authorization;
  const given = typeof candidate === 'string' ? undefined : candidate.authorization;
  if (expected === undefined || !polling) {
    return true;
  }
  return given !== undefined && given.length === expected.length && timingSafeEqual(given, expected);
}
