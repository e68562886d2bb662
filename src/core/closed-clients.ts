/**
 * Clients the library decided to close (expiry, revocation, a failed refresh),
 * process-wide and weakly held: from that moment no message handler of theirs
 * may start, even for a message that was already waiting behind an async guard
 * or pipe. Transports mark a client when they close it; the gate around each
 * `@WsAuthGateway` handler reads the mark.
 */
const closedByLibrary = new WeakSet<object>();

export function markClosed(client: object): void {
  closedByLibrary.add(client);
}

export function isClosedByLibrary(client: unknown): boolean {
  return typeof client === 'object' && client !== null && closedByLibrary.has(client);
}
