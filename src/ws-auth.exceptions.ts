import { STATUS_CODES } from 'node:http';

/** A configuration mistake found at start-up; the message says which option and how to fix it. */
export class WsAuthConfigurationError extends Error {
  override readonly name = 'WsAuthConfigurationError';

  constructor(message: string) {
    super(`nest-ws-auth: ${message}`);
  }
}

/**
 * The HTTP answer to a refused handshake. Its body has the shape of Nest's HTTP
 * exceptions, so non-browser clients parse it like any other Nest error.
 */
export class HandshakeRejection extends Error {
  override readonly name = 'HandshakeRejection';

  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  /** The response body: `{ statusCode, message, error }`. */
  get body(): string {
    return JSON.stringify({ statusCode: this.status, message: this.message, error: STATUS_CODES[this.status] });
  }
}
