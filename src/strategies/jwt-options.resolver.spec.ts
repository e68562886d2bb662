import { describe, expect, test } from '@jest/globals';
import { createSecretKey, generateKeyPairSync, KeyObject } from 'node:crypto';
import { resolveJwtOptions } from './jwt-options.resolver.js';
import { WsAuthConfigurationError } from '../core/ws-auth.exceptions.js';
import type { WsAuthJwtOptions } from '../ws-auth-module-options.interface.js';

const SECRET_32 = 'x'.repeat(32);
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const weakRsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
const p256 = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const pem = (key: KeyObject) => key.export({ type: 'spki', format: 'pem' }) as string;

describe('resolveJwtOptions', () => {
  test('turns a string secret into a secret KeyObject once', () => {
    const settings = resolveJwtOptions({ secret: SECRET_32, algorithms: ['HS256'] });
    expect(settings.key!).toBeInstanceOf(KeyObject);
    expect(settings.key!.type).toBe('secret');
    expect(settings.verifyOptions).toEqual({ algorithms: ['HS256'], clockTolerance: 0 });
    expect(settings.maxTokenBytes).toBe(8192);
  });

  test('keeps issuer, audience, tolerance, size limit and cookie', () => {
    const settings = resolveJwtOptions({
      secret: Buffer.alloc(64, 1),
      algorithms: ['HS512'],
      issuer: 'me',
      audience: ['a', 'b'],
      clockTolerance: 5,
      maxTokenBytes: 1024,
      cookie: 'access_token',
    });
    expect(settings.verifyOptions).toEqual({ algorithms: ['HS512'], issuer: 'me', audience: ['a', 'b'], clockTolerance: 5 });
    expect(settings).toMatchObject({ clockTolerance: 5, maxTokenBytes: 1024, cookie: 'access_token' });
  });

  test('takes PEM public keys for RS256 and ES256', () => {
    expect(resolveJwtOptions({ publicKey: pem(rsa.publicKey), algorithms: ['RS256', 'PS256'] }).key!.asymmetricKeyType).toBe('rsa');
    expect(resolveJwtOptions({ publicKey: p256.publicKey, algorithms: ['ES256'] }).key!.asymmetricKeyType).toBe('ec');
  });

  test.each<[string, Partial<WsAuthJwtOptions>, RegExp]>([
    ['no algorithms', { secret: SECRET_32 }, /jwt\.algorithms is required/],
    ['empty algorithms', { secret: SECRET_32, algorithms: [] }, /jwt\.algorithms is required/],
    ['none', { secret: SECRET_32, algorithms: ['none'] }, /must not contain 'none'/],
    ['NONE among others', { secret: SECRET_32, algorithms: ['HS256', 'NONE' as 'none'] }, /must not contain 'none'/],
    ['an unknown algorithm', { secret: SECRET_32, algorithms: ['HS257' as 'HS256'] }, /'HS257' is not supported/],
    ['mixed families', { secret: SECRET_32, algorithms: ['HS256', 'RS256'] }, /mixes HMAC and RSA/],
    ['a missing secret', { secret: undefined, algorithms: ['HS256'] }, /jwt\.secret is missing/],
    ['a short secret', { secret: 'short', algorithms: ['HS256'] }, /jwt\.secret is 5 bytes; HS256 need at least 32/],
    ['a secret short for HS512', { secret: SECRET_32, algorithms: ['HS512'] }, /at least 64/],
    ['a PEM as secret', { secret: pem(rsa.publicKey), algorithms: ['HS256'] }, /looks like a PEM key/],
    ['a public KeyObject as secret', { secret: rsa.publicKey, algorithms: ['HS256'] }, /public KeyObject/],
    ['publicKey with HMAC', { publicKey: pem(rsa.publicKey), algorithms: ['HS256'] }, /jwt\.publicKey is set but/],
    ['secret with RS256', { secret: SECRET_32, algorithms: ['RS256'] }, /jwt\.secret is set but/],
    ['a missing publicKey', { algorithms: ['RS256'] }, /jwt\.publicKey is missing/],
    ['garbage publicKey', { publicKey: 'not a key', algorithms: ['RS256'] }, /not a PEM public key/],
    ['an EC key for RS256', { publicKey: p256.publicKey, algorithms: ['RS256'] }, /ec key, which cannot verify RS256/],
    ['the wrong curve', { publicKey: p256.publicKey, algorithms: ['ES384'] }, /ES384 needs secp384r1/],
    ['a weak RSA key', { publicKey: weakRsa.publicKey, algorithms: ['RS256'] }, /1024-bit RSA key/],
    ['an empty issuer', { secret: SECRET_32, algorithms: ['HS256'], issuer: '' }, /jwt\.issuer/],
    ['a negative tolerance', { secret: SECRET_32, algorithms: ['HS256'], clockTolerance: -1 }, /jwt\.clockTolerance/],
    ['a zero size limit', { secret: SECRET_32, algorithms: ['HS256'], maxTokenBytes: 0 }, /jwt\.maxTokenBytes/],
    ['a bad cookie name', { secret: SECRET_32, algorithms: ['HS256'], cookie: 'a b' }, /jwt\.cookie/],
  ])('refuses %s, naming the option', (_case, options, message) => {
    const resolve = () => resolveJwtOptions(options as WsAuthJwtOptions);
    expect(resolve).toThrow(WsAuthConfigurationError);
    expect(resolve).toThrow(message);
  });

  test('accepts a secret KeyObject of the right size', () => {
    const key = createSecretKey(Buffer.alloc(48, 7));
    expect(resolveJwtOptions({ secret: key, algorithms: ['HS384'] }).key).toBe(key);
  });
});

describe('jwt.jwksUri', () => {
  test('https, or http on a loopback host; cooldown and timeout defaults', () => {
    expect(resolveJwtOptions({ jwksUri: 'https://issuer.example.com/.well-known/jwks.json', algorithms: ['RS256'] }).jwks).toEqual({
      url: new URL('https://issuer.example.com/.well-known/jwks.json'),
      cooldownMs: 30_000,
      timeoutMs: 5_000,
      maxBytes: 1_048_576,
    });
    for (const host of ['127.0.0.1:8080', '127.1.2.3', 'localhost:3000', '[::1]:9000']) {
      expect(resolveJwtOptions({ jwksUri: `http://${host}/jwks.json`, algorithms: ['ES256', 'RS256'], jwksCooldownMs: 0 }).jwks?.cooldownMs).toBe(0);
    }
  });

  test.each<[string, Record<string, unknown>, RegExp]>([
    ['http to another host', { jwksUri: 'http://issuer.example.com/jwks.json' }, /jwt\.jwksUri must be an https URL .*loopback/],
    ['http to a host that looks local', { jwksUri: 'http://127.0.0.1.evil.com/jwks.json' }, /must be an https URL/],
    ['no URL', { jwksUri: 'issuer/jwks' }, /jwt\.jwksUri is not a URL/],
    ['a secret too', { jwksUri: 'https://issuer/jwks', secret: 'x'.repeat(32) }, /jwt\.secret and jwt\.jwksUri are both set/],
    ['HMAC algorithms', { jwksUri: 'https://issuer/jwks', algorithms: ['HS256'] }, /HMAC algorithms, which a JSON Web Key Set/],
    ['a negative cooldown', { jwksUri: 'https://issuer/jwks', jwksCooldownMs: -1 }, /jwt\.jwksCooldownMs/],
  ])('refuses %s', (_case, options, message) => {
    expect(() => resolveJwtOptions({ algorithms: ['RS256'], ...options } as never)).toThrow(message);
  });
});
