import type { IncomingMessage } from 'node:http';
import { WS_AUTH_PROTOCOL_PREFIX } from './ws-auth.constants.js';
import { HandshakeRejection } from './ws-auth.exceptions.js';

/** Where a client put its token. */
export type TokenSource = 'header' | 'protocol' | 'query' | 'cookie' | 'auth';

/** What a handshake carries, read once and shared by every strategy. */
export interface Credentials {
  readonly token?: string;
  readonly source?: TokenSource;
  /** Any credentials at all: a token, or an `Authorization` header of any scheme. */
  readonly presented: boolean;
  /** Set when the token was sent twice or in two places (RFC 6750 §2): the answer is 400. */
  readonly malformed?: HandshakeRejection;
}

const NONE: Credentials = { presented: false };
const AUTHORIZATION_ONLY: Credentials = { presented: true };
const SEVERAL_PROTOCOL_TOKENS = malformed('Offer one bearer.<token> subprotocol, not several.');
const REPEATED_QUERY_TOKEN = malformed('Send the token query parameter once.');
const TOKEN_IN_SEVERAL_PLACES = malformed('Send the token in one place only: header, subprotocol, query or auth.');
const AUTH_TOKEN_NOT_A_STRING = malformed('auth.token must be a string.');
const SEVERAL_AUTHORIZATION_HEADERS = malformed('Send one Authorization header.');

/**
 * The credentials of a handshake: `Authorization: Bearer <token>`, one
 * `bearer.<token>` subprotocol entry, `?token=<token>`, Socket.IO's
 * `auth: { token }` (`authToken`), or the `cookieName` cookie when nothing
 * else was sent. A token sent twice, or in two places, is a malformed request
 * (RFC 6750 §2): `malformed` holds its 400. Read once per handshake and handed
 * to every strategy.
 */
export function readCredentials(request: IncomingMessage, cookieName?: string, authToken?: unknown): Credentials {
  const credentials = extract(request, cookieName);
  if (authToken === undefined || authToken === null || credentials.malformed) {
    return credentials;
  }
  if (typeof authToken !== 'string') {
    return AUTH_TOKEN_NOT_A_STRING;
  }
  if (credentials.token !== undefined && credentials.source !== 'cookie') {
    return TOKEN_IN_SEVERAL_PLACES;
  }
  // socket.io-client users often pass the header's value: `auth: { token: 'Bearer …' }`.
  return { source: 'auth', token: bearerToken(authToken) ?? authToken, presented: true };
}

/** Whether a `Sec-WebSocket-Protocol` entry carries a token (and must never be echoed). */
export function isTokenProtocol(protocol: string): boolean {
  return protocol.length >= WS_AUTH_PROTOCOL_PREFIX.length &&
    protocol.slice(0, WS_AUTH_PROTOCOL_PREFIX.length).toLowerCase() === WS_AUTH_PROTOCOL_PREFIX;
}

function extract(request: IncomingMessage, cookieName: string | undefined): Credentials {
  const { authorization, cookie } = request.headers;
  // Node keeps only the first Authorization header in request.headers; the others are in rawHeaders.
  if (authorization !== undefined && authorizationHeaders(request.rawHeaders) > 1) {
    return SEVERAL_AUTHORIZATION_HEADERS;
  }
  const fromHeader = authorization === undefined ? undefined : bearerToken(authorization);
  const fromProtocol = protocolTokens(request.headers['sec-websocket-protocol']);
  const fromQuery = queryTokens(request.url);
  if (fromProtocol.length > 1) {
    return SEVERAL_PROTOCOL_TOKENS;
  }
  if (fromQuery.length > 1) {
    return REPEATED_QUERY_TOKEN;
  }
  const [protocolToken] = fromProtocol;
  const [queryToken] = fromQuery;
  const places = Number(fromHeader !== undefined) + Number(protocolToken !== undefined) + Number(queryToken !== undefined);
  if (places > 1) {
    return TOKEN_IN_SEVERAL_PLACES;
  }
  if (fromHeader !== undefined) {
    return { source: 'header', token: fromHeader, presented: true };
  }
  if (protocolToken !== undefined) {
    return { source: 'protocol', token: protocolToken, presented: true };
  }
  if (queryToken !== undefined) {
    return { source: 'query', token: queryToken, presented: true };
  }
  const fromCookie = cookieName === undefined ? undefined : cookieValue(cookie, cookieName);
  if (fromCookie !== undefined) {
    return { source: 'cookie', token: fromCookie, presented: true };
  }
  return authorization === undefined ? NONE : AUTHORIZATION_ONLY;
}

function authorizationHeaders(rawHeaders: readonly string[] | undefined): number {
  let count = 0;
  if (rawHeaders) {
    for (let index = 0; index < rawHeaders.length; index += 2) {
      const name = rawHeaders[index]!;
      if (name.length === 13 && name.toLowerCase() === 'authorization') {
        count += 1;
      }
    }
  }
  return count;
}

/** RFC 7235: the scheme is case-insensitive; anything but Bearer (Basic, ...) is not a token. */
function bearerToken(authorization: string): string | undefined {
  const value = authorization.trim();
  const space = value.search(/[ \t]/);
  const schemeLength = space === -1 ? value.length : space;
  if (schemeLength !== 6 || value.slice(0, 6).toLowerCase() !== 'bearer') {
    return undefined;
  }
  return space === -1 ? '' : value.slice(space + 1).trim();
}

const NO_TOKENS: readonly string[] = [];

function protocolTokens(header: string | undefined): readonly string[] {
  if (header === undefined) {
    return NO_TOKENS;
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

function queryTokens(url: string | undefined): readonly string[] {
  const start = url?.indexOf('?') ?? -1;
  if (start === -1 || !url!.includes('token=', start)) {
    return NO_TOKENS;
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

function malformed(message: string): Credentials {
  const rejection = new HandshakeRejection(400, message, { 'WWW-Authenticate': 'Bearer error="invalid_request"' });
  return { presented: true, malformed: rejection };
}
