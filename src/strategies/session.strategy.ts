import { type IncomingMessage, ServerResponse } from 'node:http';
import passport from 'passport';
import { type Authenticate, AuthFailure } from '../core/strategy.contract.js';
import type { SessionMiddleware } from '../ws-auth-module-options.interface.js';

type WithSession = IncomingMessage & { session?: { passport?: { user?: unknown } } };

/** `passport.deserializeUser(serialized, request, done)`: the chain a `PassportSerializer` registers into. */
type Deserialize = (serialized: unknown, request: IncomingMessage, done: (error: unknown, user?: unknown) => void) => void;

const NOT_LOGGED_IN = new AuthFailure('Authentication required', false);
const USER_GONE = new AuthFailure('Session user no longer exists');

/**
 * The built-in `session` strategy, nest-ws-auth's AuthMiddlewareStack: runs the
 * app's own express-session handler on the upgrade request (any store) and
 * takes the user passport's session serializer restores from it.
 */
export class SessionStrategy {
  constructor(private readonly middleware: SessionMiddleware) {}

  readonly authenticate: Authenticate = async (request) => {
    let serialized: unknown;
    let user: unknown;
    try {
      serialized = (await this.loadSession(request))?.passport?.user;
      if (serialized === undefined || serialized === null) {
        return { kind: 'fail', challenge: NOT_LOGGED_IN };
      }
      user = await deserialize(serialized, request);
    } catch (error) {
      return { kind: 'error', error };
    }
    return user ? { kind: 'success', user } : { kind: 'fail', challenge: USER_GONE };
  };

  private loadSession(request: IncomingMessage): Promise<WithSession['session']> {
    return new Promise((resolve, reject) => {
      // express-session hooks the response to save the session when it ends; this one
      // never ends and writes nothing: a handshake only reads the session.
      this.middleware(request, new ServerResponse(request), (error?: unknown) =>
        error ? reject(error) : resolve((request as WithSession).session),
      );
    });
  }
}

function deserialize(serialized: unknown, request: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    (passport.deserializeUser as unknown as Deserialize).call(passport, serialized, request, (error, user) =>
      error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(user),
    );
  });
}
