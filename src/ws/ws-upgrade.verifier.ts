import type { IncomingMessage } from 'node:http';
import type { HandshakeAuthenticator } from '../core/handshake.authenticator.js';
import type { AcceptedHandshake, GatewayPolicy, Verdict } from '../core/handshake.interfaces.js';
import { isPromiseLike } from '../core/maybe-promise.js';
import { HandshakeRejection } from '../core/ws-auth.exceptions.js';
import { socketLink } from './ws.transport.js';

/** ws's asynchronous `verifyClient`. */
export type VerifyClient = (
  info: { req: IncomingMessage },
  done: (verified: boolean, status?: number, message?: string, headers?: Record<string, string>) => void,
) => void;

/**
 * The core's verdict in ws's words: a refusal is the HTTP answer to the
 * upgrade request; an accepted handshake waits here, keyed by its request,
 * for the `connection` event.
 */
export class WsUpgradeVerifier {
  private readonly accepted = new WeakMap<IncomingMessage, AcceptedHandshake>();

  constructor(private readonly authenticator: HandshakeAuthenticator) {}

  /** The `verifyClient` of one gateway. */
  verifyClient(policy: GatewayPolicy): VerifyClient {
    return ({ req: request }, done) => {
      const answer = (verdict: Verdict): void => {
        // A client gone mid-authentication gets no answer: its socket is already destroyed.
        if (request.socket.destroyed) {
          return;
        }
        if (verdict instanceof HandshakeRejection) {
          done(false, verdict.status, verdict.body, verdict.headers as Record<string, string>);
        } else {
          this.accepted.set(request, verdict);
          done(true);
        }
      };
      const verdict = this.authenticator.authenticate({ request, link: socketLink(request.socket), transport: 'ws' }, policy);
      if (isPromiseLike(verdict)) {
        void verdict.then(answer);
      } else {
        answer(verdict);
      }
    };
  }

  /** The handshake accepted for this upgrade request, once: it is handed over to the connection. */
  takeHandshake(request: IncomingMessage): AcceptedHandshake | undefined {
    const handshake = this.accepted.get(request);
    this.accepted.delete(request);
    return handshake;
  }
}
