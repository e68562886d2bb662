import jwt from 'jsonwebtoken';
import type { WsAuthSettings } from '../ws-auth-options.resolver.js';
import { WsAuthTestingError } from './ws-auth-testing.errors.js';

/** Signs the claims of a test token: `iat` and `exp` are set already. */
export type TokenSigner = (claims: Record<string, unknown>) => string | Promise<string>;

/**
 * Tokens as the app's own built-in `jwt` strategy accepts them: signed with its
 * HMAC key and first algorithm, with its issuer and audience. A public key or a
 * key set only verifies: then the test passes a `sign` function.
 */
export function signerFor(settings: WsAuthSettings, sign: TokenSigner | undefined): TokenSigner {
  if (sign) {
    return sign;
  }
  const options = settings.jwt;
  if (!options) {
    return () => {
      throw new WsAuthTestingError(
        `the app has no built-in jwt strategy (WsAuthModule.forRoot({ jwt })), so the kit cannot make a token for it. ` +
          `Pass the credentials your strategy reads, connectAs(user, path, { headers: { ... } }), a token: '...', or WsAuthTesting.start(app, { sign }).`,
      );
    };
  }
  if (!options.key || options.key.type !== 'secret') {
    const how = options.jwks ? 'a JSON Web Key Set (jwt.jwksUri)' : `a public key (${options.verifyOptions.algorithms.join(', ')})`;
    return () => {
      throw new WsAuthTestingError(
        `the app verifies tokens with ${how}, and the kit has no private key to sign them with. ` +
          `Pass WsAuthTesting.start(app, { sign: (claims) => signWithYourTestKey(claims) }), or connectAs(user, path, { token }).`,
      );
    };
  }
  const { key } = options;
  const { algorithms, issuer, audience } = options.verifyOptions;
  const signOptions: jwt.SignOptions = {
    algorithm: algorithms[0]!,
    ...(issuer !== undefined && { issuer: Array.isArray(issuer) ? issuer[0]! : issuer }),
    ...(audience !== undefined && { audience: (Array.isArray(audience) ? audience[0] : audience) as string }),
  };
  return (claims) => jwt.sign(claims, key, signOptions);
}

/** The claims of `user`'s token: the user's own fields, `sub` its id, `iat`/`exp` at the kit clock's time. */
export function claimsOf(user: object, nowMs: number, expiresIn: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const { id, sub } = user as { id?: unknown; sub?: unknown };
  const subject = sub ?? id;
  if (subject === undefined || subject === null || subject === '') {
    throw new WsAuthTestingError(`connectAs() needs a user with an id (or sub), e.g. connectAs({ id: 'alice' }, '/chat').`);
  }
  // RFC 7519: sub is a string, as the library's jwt strategy requires; String(42) would hide a bug of the test.
  if (typeof subject !== 'string') {
    throw new TypeError(`connectAs: the user's ${sub !== undefined ? 'sub' : 'id'} must be a non-empty string; got ${typeof subject}. Write { id: '${String(subject)}' }.`);
  }
  const iat = Math.floor(nowMs / 1000);
  return { ...user, sub: subject, ...extra, iat, exp: iat + expiresIn };
}
