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
export type JwksMode = 'ok' | 'stall' | 'error';

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
