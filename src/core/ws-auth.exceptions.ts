import type { IncomingMessage } from 'node:http';
import { STATUS_CODES } from 'node:http';
import { WS_AUTH_PROTOCOL_PREFIX } from './ws-auth.constants.js';

/** A configuration mistake found at start-up; the message says which option and how to fix it. */
export class WsAuthConfigurationError extends Error {
  override readonly name = 'WsAuthConfigurationError';

  constructor(message: string) {
    super(`nest-ws-auth: ${message}`);
  }
}

/** What a logged error may quote: a token, or the request whose credentials must not be logged. */
export type Credential = string | IncomingMessage | undefined;

const REDACTED = '[token]';
/** Shorter values are not redacted on their own (a cookie `lang=en` would blank every "en"). */
const MIN_SECRET_LENGTH = 8;
/** `?token=…` / `&access_token=…` in any quoted URL, whatever its encoding. */
const QUERY_TOKEN = /([?&;](?:access_)?token(?:=|%3D))[^&\s"'#;<>]*/gi;
/** `bearer.<token>` subprotocol entries, `Bearer <token>` credentials, anywhere. */
const BEARER = /\b(bearer[.\s]+)[^\s,"';]{8,}/gi;

/**
 * An error as a log line, with every credential replaced by `[token]`: the
 * library never logs a credential, even one an app's own error message quotes.
 * `credentials` are tokens and requests: a request stands for its whole
 * `Authorization` and `Cookie` header values (each cookie value too), its
 * `bearer.` subprotocol entries and its `?token=`. Each value is redacted raw,
 * percent-encoded (`encodeURIComponent`, lower-case hex, form encoding with
 * `+`) and JSON-escaped; a JWT's payload and signature pieces on their own too.
 */
export function loggable(error: unknown, ...credentials: Credential[]): string {
  let text = error instanceof Error ? (error.stack ?? error.message) : String(error);
  const secrets = new Set<string>();
  for (const credential of credentials) {
    if (typeof credential === 'string') {
      addSecret(secrets, credential, 4);
    } else if (credential) {
      requestSecrets(credential, secrets);
    }
  }
  const forms = new Set<string>();
  for (const secret of secrets) {
    for (const form of encodings(secret)) {
      forms.add(form);
    }
  }
  // Longest first, so that a token's pieces never leave part of a longer form behind.
  for (const form of [...forms].sort((a, b) => b.length - a.length)) {
    text = text.replaceAll(form, REDACTED);
  }
  return text.replace(QUERY_TOKEN, `$1${REDACTED}`).replace(BEARER, `$1${REDACTED}`);
}

function requestSecrets(request: IncomingMessage, secrets: Set<string>): void {
  const raw = request.rawHeaders ?? [];
  for (let index = 0; index + 1 < raw.length; index += 2) {
    const name = raw[index]!.toLowerCase();
    const value = raw[index + 1]!;
    if (name === 'authorization' || name === 'proxy-authorization') {
      addSecret(secrets, value, 1);
      addSecret(secrets, value.replace(/^\s*\S+\s+/, ''), MIN_SECRET_LENGTH);
    } else if (name === 'cookie') {
      addSecret(secrets, value, 1);
      for (const pair of value.split(';')) {
        const separator = pair.indexOf('=');
        addSecret(secrets, separator === -1 ? pair.trim() : pair.slice(separator + 1).trim(), MIN_SECRET_LENGTH);
      }
    } else if (name === 'sec-websocket-protocol') {
      for (const entry of value.split(',')) {
        const protocol = entry.trim();
        if (protocol.toLowerCase().startsWith(WS_AUTH_PROTOCOL_PREFIX)) {
          addSecret(secrets, protocol, 1);
          addSecret(secrets, protocol.slice(WS_AUTH_PROTOCOL_PREFIX.length), 4);
        }
      }
    }
  }
  const url = request.url ?? '';
  const query = url.indexOf('?');
  if (query !== -1) {
    for (const [name, value] of new URLSearchParams(url.slice(query + 1))) {
      if (/token$/i.test(name)) {
        addSecret(secrets, value, 4);
      }
    }
  }
}

function addSecret(secrets: Set<string>, value: string, minLength: number): void {
  const trimmed = value.trim();
  if (trimmed.length < minLength) {
    return;
  }
  secrets.add(trimmed);
  // A JWT's payload and signature identify it: either alone is the token.
  const pieces = trimmed.split('.');
  if (pieces.length === 3) {
    for (const piece of pieces.slice(1)) {
      if (piece.length >= 16) {
        secrets.add(piece);
      }
    }
  }
}

/** Every form in which `secret` may reach a log line. */
function encodings(secret: string): string[] {
  const uri = encodeURIComponent(secret);
  const form = new URLSearchParams([['', secret]]).toString().slice(1);
  const json = JSON.stringify(secret).slice(1, -1);
  return [secret, uri, uri.replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase()), form, uri.replace(/%20/g, '+'), json];
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
    /** Seconds until the client may try again (a 429 of the failed-handshake limit): `Retry-After`. */
    readonly retryAfter?: number,
  ) {
    this.body = JSON.stringify({ statusCode: status, message, error: STATUS_CODES[status] });
    this.headers = {
      'Content-Type': 'application/json',
      ...(retryAfter !== undefined && { 'Retry-After': String(retryAfter) }),
      ...headers,
    };
  }
}

/**
 * A service the handshake depends on is down (the issuer's key set): the
 * client gets 503 with `message`; `cause` is logged, without credentials.
 */
export class ServiceUnavailableError extends Error {
  override readonly name = 'ServiceUnavailableError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
