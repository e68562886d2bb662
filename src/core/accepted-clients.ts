import { isClosedByLibrary } from './closed-clients.js';

/**
 * Clients a guarded gateway accepted at the handshake, with their user id
 * (`null`: anonymous, on an optional gateway), process-wide and weakly held, so
 * that code given only a client (a guard's ExecutionContext) can tell a
 * connection nest-ws-auth authenticated from any other.
 */
const accepted = new WeakMap<object, string | null>();

export function markAccepted(client: object, userId: string | null): void {
  accepted.set(client, userId);
}

/** The user id of a client the library accepted and has not closed; `null` if anonymous; `undefined` otherwise. */
export function acceptedUserId(client: unknown): string | null | undefined {
  if (typeof client !== 'object' || client === null || isClosedByLibrary(client)) {
    return undefined;
  }
  return accepted.get(client);
}
