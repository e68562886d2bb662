import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import passport from 'passport';
import type { SessionMiddleware } from '../ws-auth-module-options.interface.js';
import { WsAuthTestingError } from './ws-auth-testing.errors.js';

type Serialize = (user: unknown, request: IncomingMessage, done: (error: unknown, serialized?: unknown) => void) => void;
type SessionRequest = IncomingMessage & { session?: { passport?: { user?: unknown }; save(done: (error?: unknown) => void): void } };

/**
 * Logs `user` in the way the app's login does, without its login route: runs
 * the app's own express-session handler on a request of the kit's, stores
 * passport's serialized user in the new session (the app's `PassportSerializer`,
 * through `passport.serializeUser`), saves it in the app's store, and returns
 * the signed session cookie (`name=value`) the handler set.
 */
export async function sessionCookieFor(middleware: SessionMiddleware, user: unknown): Promise<string> {
  const socket = new Socket();
  // A secure connection, so that a `cookie: { secure: true }` session sets its cookie too.
  Object.defineProperty(socket, 'encrypted', { value: true });
  const request = new IncomingMessage(socket) as SessionRequest;
  request.method = 'GET';
  request.url = '/';
  request.headers = { host: '127.0.0.1' };
  const response = new ServerResponse(request);
  let onSaved!: () => void;
  const saved = new Promise<void>((resolve) => (onSaved = resolve));
  const end = response.end as (...args: unknown[]) => ServerResponse;
  // express-session wraps this end and calls it after saving the session.
  response.end = function (this: ServerResponse, ...args: unknown[]) {
    onSaved();
    return end.apply(this, args);
  } as ServerResponse['end'];
  try {
    await new Promise<void>((resolve, reject) => middleware(request, response, (error) => (error ? reject(error) : resolve())));
    if (!request.session) {
      throw new WsAuthTestingError(`the session option of WsAuthModule did not create a session: is it express-session's handler?`);
    }
    const serialized = await new Promise<unknown>((resolve, reject) =>
      (passport.serializeUser as unknown as Serialize).call(passport, user, request, (error, value) =>
        error ? reject(error) : resolve(value),
      ),
    ).catch((error: unknown) => {
      throw new WsAuthTestingError(
        `passport could not serialize the user (${error instanceof Error ? error.message : String(error)}): ` +
          `provide a PassportSerializer in the app (as its login needs one), whose serializeUser accepts this user.`,
      );
    });
    request.session.passport = { user: serialized };
    // Ending the response makes express-session set its cookie and save the session in the
    // app's store; it ends the response for real (the kit's end below) once the store answered.
    response.end();
    await saved;
    const setCookie = response.getHeader('set-cookie');
    const cookie = (Array.isArray(setCookie) ? setCookie[0] : setCookie)?.toString().split(';')[0];
    if (!cookie) {
      throw new WsAuthTestingError(`the app's session handler set no cookie for the new session.`);
    }
    return cookie;
  } finally {
    socket.destroy();
  }
}
