import type { Namespace, Socket } from 'socket.io';

/** What Socket.IO's session-aware adapters store and restore (socket.io-adapter's `Session`). */
interface StoredSession {
  readonly sid: string;
  readonly pid: string;
  readonly data: { user?: unknown } | undefined;
  missedPackets: unknown[][];
}

type RecoveringAdapter = {
  persistSession(session: StoredSession): unknown;
  restoreSession(pid: string, offset: string): Promise<StoredSession | null> | StoredSession | null;
};

/** A restored session's missed packets, held back until the socket that claims it is authenticated. */
interface Held {
  readonly owner: string | undefined;
  readonly missedPackets: unknown[][];
}

/** `socket.io-parser`'s EVENT packet type. */
const EVENT = 2;

/**
 * Connection state recovery, made to belong to the user whose session it was.
 *
 * Socket.IO restores a session (`auth.pid`) before any middleware runs, and
 * sends its missed packets from the Socket's constructor: with
 * `skipMiddlewares: false` a client with no token, or another user's token,
 * would receive them before its refusal. So the adapter's `restoreSession` is
 * wrapped (the adapter interface is Socket.IO's public seam for recovery) to
 * hold the missed packets back; once the namespace middleware has judged the
 * client, `admit()` delivers them if it is the same user, and refuses the
 * client otherwise. Sessions of anonymous clients are never stored: nobody
 * could prove them theirs, and the client gets a fresh session instead.
 */
export class SessionRecovery {
  /** By the restored socket id, between `restoreSession` and the middleware's verdict on the socket. */
  private readonly held = new Map<string, Held>();

  constructor(
    private readonly namespace: Namespace,
    private readonly userIdOf: (user: unknown) => string,
  ) {
    this.guard(namespace.adapter as unknown as RecoveringAdapter);
    // `server.adapter(…)` after start-up gives every namespace a new adapter: guard that one too.
    let adapter = namespace.adapter;
    Object.defineProperty(namespace, 'adapter', {
      configurable: true,
      enumerable: true,
      get: () => adapter,
      set: (next: Namespace['adapter']) => {
        adapter = next;
        this.guard(next as unknown as RecoveringAdapter);
      },
    });
  }

  /**
   * Whether an authenticated client may have the session it recovered (a socket
   * that recovered nothing always may). Delivers the missed packets when it may;
   * the caller refuses the client when not.
   */
  admit(socket: Socket, userId: string | undefined): boolean {
    if (!socket.recovered) {
      return true;
    }
    const held = this.held.get(socket.id);
    this.held.delete(socket.id);
    if (held === undefined || held.owner === undefined || held.owner !== userId) {
      return false;
    }
    // The packets go out before the CONNECT packet, as Socket.IO itself sends them.
    // `packet` writes without a new offset; emit() would append one and reach only connected sockets.
    const send = (socket as unknown as { packet(packet: { type: number; data: unknown[] }): void }).packet.bind(socket);
    for (const data of held.missedPackets) {
      send({ type: EVENT, data });
    }
    return true;
  }

  /** The socket was refused or left before its verdict: its held packets go. */
  forget(socket: Socket): void {
    if (socket.recovered) {
      this.held.delete(socket.id);
    }
  }

  private guard(adapter: RecoveringAdapter): void {
    const persist = adapter.persistSession.bind(adapter);
    const restore = adapter.restoreSession.bind(adapter);
    adapter.persistSession = (session) => (this.ownerOf(session) === undefined ? undefined : persist(session));
    adapter.restoreSession = async (pid, offset) => {
      const session = await restore(pid, offset);
      if (!session) {
        return session;
      }
      // A session whose socket is still there (its owner is connected, or another client is recovering it right
      // now) is not handed out again: a second Socket with that id would, once refused, take the live one's rooms
      // and namespace entry with it. The claimant gets a fresh session.
      if (this.held.has(session.sid) || this.inUse(session.sid)) {
        return null;
      }
      this.held.set(session.sid, { owner: this.ownerOf(session), missedPackets: session.missedPackets });
      return { ...session, missedPackets: [] };
    };
  }

  /** Whether a socket of this id is connected, or connecting (Socket.IO keeps those apart until their middlewares ran). */
  private inUse(sid: string): boolean {
    const connecting = (this.namespace as unknown as { _preConnectSockets?: Map<string, unknown> })._preConnectSockets;
    return this.namespace.sockets.has(sid) || connecting?.has(sid) === true;
  }

  private ownerOf(session: StoredSession): string | undefined {
    const user = session.data?.user;
    if (user === null || user === undefined) {
      return undefined;
    }
    try {
      return this.userIdOf(user);
    } catch {
      return undefined;
    }
  }
}
