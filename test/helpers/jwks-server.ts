import { generateKeyPairSync, type KeyObject, randomUUID } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import jwt from 'jsonwebtoken';
import { TEST_ISSUER } from './tokens.js';

/** An RSA signing key, as an issuer has it, with the public half as a JWK. */
export interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly jwk: Record<string, unknown>;
}

export function rsaKey(kid: string = randomUUID()): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid, privateKey, jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' } };
}

/** A token signed by `key`, with its kid, accepted by the JWKS test apps. */
export function signWith(key: SigningKey, claims: Record<string, unknown> = { sub: 'alice' }, options: jwt.SignOptions = {}): string {
  return jwt.sign(claims, key.privateKey, {
    algorithm: 'RS256',
    keyid: key.kid,
    issuer: TEST_ISSUER,
    audience: TEST_ISSUER,
    ...('exp' in claims ? {} : { expiresIn: 60 }),
    ...options,
  });
}

/** How the key set endpoint behaves. */
export type JwksMode = 'ok' | 'stall' | 'error' | BrokenKeySet;

/** 200 answers that are no usable key set. */
export const BROKEN_KEY_SETS = ['not-json', 'wrong-shape', 'no-keys', 'cut-short', 'huge'] as const;
export type BrokenKeySet = (typeof BROKEN_KEY_SETS)[number];

/** 8 MB of a syntactically endless key set, streamed without a content-length. */
const HUGE_CHUNK = Buffer.alloc(64 * 1024, ' ');
const HUGE_CHUNKS = 128;

/** A key set endpoint on a loopback port that the test controls. */
export interface JwksServer {
  readonly url: string;
  keys: SigningKey[];
  mode: JwksMode;
  /** Requests received so far. */
  readonly fetches: number;
  close(): Promise<void>;
}

export async function startJwksServer(keys: SigningKey[]): Promise<JwksServer> {
  let fetches = 0;
  const stalled: ServerResponse[] = [];
  const state = { keys, mode: 'ok' as JwksMode };
  const server: Server = createServer((_request, response) => {
    fetches += 1;
    if (state.mode === 'stall') {
      stalled.push(response);
      return;
    }
    if (state.mode === 'error') {
      response.writeHead(500).end('down');
      return;
    }
    if (state.mode !== 'ok') {
      broken(state.mode, response);
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ keys: state.keys.map((key) => key.jwk) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    get keys() {
      return state.keys;
    },
    set keys(value) {
      state.keys = value;
    },
    get mode() {
      return state.mode;
    },
    set mode(value) {
      state.mode = value;
      if (value !== 'stall') for (const response of stalled.splice(0)) response.destroy();
    },
    get fetches() {
      return fetches;
    },
    close: () => {
      for (const response of stalled.splice(0)) response.destroy();
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function broken(mode: BrokenKeySet, response: ServerResponse): void {
  switch (mode) {
    case 'not-json':
      response.writeHead(200, { 'content-type': 'text/html' }).end('<html>maintenance</html>');
      return;
    case 'wrong-shape':
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"keys":"x"}');
      return;
    case 'no-keys':
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"keys":[]}');
      return;
    case 'cut-short':
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': '4096' });
      response.write('{"keys":[{"kty":"RSA",');
      response.destroy();
      return;
    case 'huge': {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('{"keys":[');
      let sent = 0;
      const more = (): void => {
        while (sent < HUGE_CHUNKS && !response.destroyed) {
          sent += 1;
          if (!response.write(HUGE_CHUNK)) {
            response.once('drain', more);
            return;
          }
        }
        response.end(']}');
      };
      response.on('error', () => {});
      more();
    }
  }
}
