/** A kit that cannot do what a test asked (not an assertion that failed); the message says what to do. */
export class WsAuthTestingError extends Error {
  override readonly name = 'WsAuthTestingError';

  constructor(message: string) {
    super(`nest-ws-auth/testing: ${message}`);
  }
}
