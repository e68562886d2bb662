import { STATUS_CODES } from 'node:http';

/** A configuration mistake found at start-up; the message says which option and how to fix it. */
export class WsAuthConfigurationError extends Error {
  override readonly name = 'WsAuthConfigurationError';

  constructor(message: string) {
    super(`nest-ws-auth: ${message}`);
  }
}

/**
 * An error as a log line, with `token` replaced by `[token]`: the library
 * never logs a credential, even one an app's own error message quotes.
 */
export function loggable(error: unknown, token: string | undefined): string {
  const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return token ? text.replaceAll(token, '[token]') : text;
}

/**
 * The HTTP answer to a refused handshake. A value, not an Error: refusing
 * clients is the guard's everyday work, and capturing a stack trace for each
 * would make every refused client dearer. Its body has the shape of Nest's
 * HTTP exceptions, so non-browser clients parse it like any other Nest error.
 */
export class HandshakeRejection {
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    readonly status: number,
    readonly message: string,
    headers: Record<string, string> = {},
  ) {
    this.body = JSON.stringify({ statusCode: status, message, error: STATUS_CODES[status] });
    this.headers = { 'Content-Type': 'application/json', ...headers };
  }
}
