import type { IncomingMessage } from 'node:http';
import { WS_AUTH_PROTOCOL_PREFIX } from './ws-auth.constants.js';
import { HandshakeRejection } from './ws-auth.exceptions.js';
import { CREDENTIALS } from './ws-auth.internal-constants.js';

/** Where a client put its token. */
export type TokenSource = 'header' | 'protocol' | 'query' | 'cookie';

/** What a handshake carries, read once and shared by every strategy. */
export interface Credentials {
  readonly token?: string;
  readonly source?: TokenSource;
  /** Any credentials at all: a token, or an `Authorization` header of any scheme. */
  readonly presented: boolean;
}

type CarriesCredentials = IncomingMessage & { [CREDENTIALS]?: Credentials };

const NONE: Credentials = { presented: false };
const AUTHORIZATION_ONLY: Credentials = { presented: true };

/**
 * The credentials of an upgrade request: `Authorization: Bearer <token>`, one
 * `bearer.<token>` subprotocol entry, `?token=<token>`, or the `cookieName`
 * cookie when nothing else was sent. A token sent twice, or in two places,
 * is a malformed request (RFC 6750 §2) and gets 400.
 */
export function readCredentials(request: IncomingMessage, cookieName?: string): Credentials {
  const carrier = request as CarriesCredentials;
  return (carrier[CREDENTIALS] ??= extract(request, cookieName));
}

/** Whether a `Sec-WebSocket-Protocol` entry carries a token (and must never be echoed). */
export function isTokenProtocol(protocol: string): boolean {
  return protocol.length >= WS_AUTH_PROTOCOL_PREFIX.length &&
    protocol.slice(0, WS_AUTH_PROTOCOL_PREFIX.length).toLowerCase() === WS_AUTH_PROTOCOL_PREFIX;
}

function extract(request: IncomingMessage, cookieName: string | undefined): Credentials {
  const { authorization, cookie } = request.headers;
  const fromHeader = authorization === undefined ? undefined : bearerToken(authorization);
  const fromProtocol = protocolTokens(request.headers['sec-websocket-protocol']);
  const fromQuery = queryTokens(request.url);
  if (fromProtocol.length > 1) {
    throw invalidRequest('Offer one bearer.<token> subprotocol, not several.');
  }
  if (fromQuery.length > 1) {
    throw invalidRequest('Send the token query parameter once.');
  }
  const sent: Array<[TokenSource, string]> = [];
  if (fromHeader !== undefined) sent.push(['header', fromHeader]);
  if (fromProtocol[0] !== undefined) sent.push(['protocol', fromProtocol[0]]);
  if (fromQuery[0] !== undefined) sent.push(['query', fromQuery[0]]);
  if (sent.length > 1) {
    throw invalidRequest('Send the token in one place only: header, subprotocol or query.');
  }
  const [only] = sent;
  if (only) {
    return { source: only[0], token: only[1], presented: true };
  }
  const fromCookie = cookieName === undefined ? undefined : cookieValue(cookie, cookieName);
  if (fromCookie !== undefined) {
    return { source: 'cookie', token: fromCookie, presented: true };
  }
  return authorization === undefined ? NONE : AUTHORIZATION_ONLY;
}

/** RFC 7235: the scheme is case-insensitive; anything but Bearer (Basic, ...) is not a token. */
function bearerToken(authorization: string): string | undefined {
  const match = /^[ \t]*([^ \t]+)(?:[ \t]+(.*?))?[ \t]*$/.exec(authorization);
  if (!match || match[1]!.toLowerCase() !== 'bearer') {
    return undefined;
  }
  return match[2] ?? '';
}

function protocolTokens(header: string | undefined): string[] {
  if (header === undefined) {
    return [];
  }
  const tokens: string[] = [];
  for (const entry of header.split(',')) {
    const protocol = entry.trim();
    if (isTokenProtocol(protocol)) {
      tokens.push(protocol.slice(WS_AUTH_PROTOCOL_PREFIX.length));
    }
  }
  return tokens;
}

function queryTokens(url: string | undefined): string[] {
  const start = url?.indexOf('?') ?? -1;
  if (start === -1 || !url!.includes('token=', start)) {
    return [];
  }
  return new URLSearchParams(url!.slice(start + 1)).getAll('token');
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) {
    return undefined;
  }
  for (const pair of header.split(';')) {
    const separator = pair.indexOf('=');
    if (separator !== -1 && pair.slice(0, separator).trim() === name) {
      const raw = pair.slice(separator + 1).trim().replace(/^"(.*)"$/, '$1');
      try {
        return decodeURIComponent(raw);
      } catch {
        return raw;
      }
    }
  }
  return undefined;
}

function invalidRequest(message: string): HandshakeRejection {
  return new HandshakeRejection(400, message, { 'WWW-Authenticate': 'Bearer error="invalid_request"' });
}
