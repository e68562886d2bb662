import { AsyncLocalStorage } from 'node:async_hooks';
import type { MessageMappingProperties } from '@nestjs/websockets';
import type { Socket } from 'socket.io';

/** The acknowledgement of one message being handled, until it is answered. */
interface PendingAck {
  readonly socket: Socket;
  readonly ack: (...answer: unknown[]) => void;
  answered: boolean;
}

/** What Nest hands the adapter for one handler: guards, pipes, interceptors, the method. */
type MessageCallback = MessageMappingProperties['callback'];

/** Which message's handling an `exception` emit belongs to: concurrent messages of a socket each have their own. */
const handling = new AsyncLocalStorage<PendingAck>();
const watched = new WeakSet<Socket>();

/** Outgoing-packet listener of a watched socket (`this`): an `exception` answers the ack of the message that caused it. */
function onOutgoing(this: Socket, event: string, payload?: unknown): void {
  if (event !== 'exception') {
    return;
  }
  const pending = handling.getStore();
  if (pending !== undefined && pending.socket === this && !pending.answered) {
    pending.answered = true;
    pending.ack(payload);
  }
}

/**
 * A message refused by a guard (`@WsRoles`, `@UseGuards`), a pipe or a handler
 * that throws makes Nest emit an `exception` event and never call the
 * message's acknowledgement: `emitWithAck()` without a timeout would wait
 * forever. Wrapped this way, the acknowledgement gets that same payload (Nest's
 * exception shape, `{ status: 'error', message }` by default), and the
 * `exception` event is still emitted for listeners of it. Messages without an
 * acknowledgement cost nothing more; a socket's outgoing listener is added on its
 * first acknowledged message.
 */
export function answeringAckOnException(socket: Socket, callback: MessageCallback): MessageCallback {
  return (data: unknown, ack?: unknown) => {
    if (typeof ack !== 'function') {
      return callback(data, ack);
    }
    if (!watched.has(socket)) {
      watched.add(socket);
      socket.onAnyOutgoing(onOutgoing);
    }
    const pending: PendingAck = { socket, ack: ack as PendingAck['ack'], answered: false };
    const once = (...answer: unknown[]): void => {
      if (!pending.answered) {
        pending.answered = true;
        pending.ack(...answer);
      }
    };
    return handling.run(pending, () => callback(data, once));
  };
}
