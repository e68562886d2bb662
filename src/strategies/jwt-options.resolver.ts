import { createPublicKey, createSecretKey, KeyObject } from 'node:crypto';
import type { Algorithm, VerifyOptions } from 'jsonwebtoken';
import { WsAuthConfigurationError } from '../core/ws-auth.exceptions.js';
import type { WsAuthJwtOptions } from '../ws-auth-module-options.interface.js';

/** Where the built-in `jwt` strategy fetches its keys from (`jwt.jwksUri`). */
export interface JwksSettings {
  readonly url: URL;
  readonly cooldownMs: number;
  readonly timeoutMs: number;
  /** The largest key set body read; a larger one is a failed fetch. */
  readonly maxBytes: number;
}

/** The built-in `jwt` strategy's options, validated, with the key parsed once. */
export interface JwtSettings {
  /** The key of `secret` or `publicKey`; absent with `jwks`. */
  readonly key?: KeyObject;
  /** The key set of `jwksUri`; absent with `key`. */
  readonly jwks?: JwksSettings;
  readonly verifyOptions: VerifyOptions & { algorithms: Algorithm[] };
  readonly clockTolerance: number;
  readonly maxTokenBytes: number;
  readonly cacheSize: number;
  readonly cookie?: string;
}

type Family = 'HMAC' | 'RSA' | 'EC';

interface AlgorithmSpec {
  readonly family: Family;
  /** RFC 7518 §3.2: an HMAC key at least as long as the hash. */
  readonly minSecretBytes?: number;
  readonly keyTypes?: readonly string[];
  readonly curve?: string;
}

const RSA: AlgorithmSpec = { family: 'RSA', keyTypes: ['rsa'] };
const RSA_PSS: AlgorithmSpec = { family: 'RSA', keyTypes: ['rsa', 'rsa-pss'] };

/** What jsonwebtoken 9 verifies. */
const ALGORITHMS: Readonly<Record<string, AlgorithmSpec>> = {
  HS256: { family: 'HMAC', minSecretBytes: 32 },
  HS384: { family: 'HMAC', minSecretBytes: 48 },
  HS512: { family: 'HMAC', minSecretBytes: 64 },
  RS256: RSA,
  RS384: RSA,
  RS512: RSA,
  PS256: RSA_PSS,
  PS384: RSA_PSS,
  PS512: RSA_PSS,
  ES256: { family: 'EC', keyTypes: ['ec'], curve: 'prime256v1' },
  ES384: { family: 'EC', keyTypes: ['ec'], curve: 'secp384r1' },
  ES512: { family: 'EC', keyTypes: ['ec'], curve: 'secp521r1' },
};

export const MIN_RSA_BITS = 2048;
const DEFAULT_MAX_TOKEN_BYTES = 8192;
const DEFAULT_CACHE_SIZE = 1000;
const DEFAULT_JWKS_COOLDOWN_MS = 30_000;
const DEFAULT_JWKS_TIMEOUT_MS = 5_000;
/** A key set is a few kilobytes; a megabyte is room for hundreds of keys. */
const DEFAULT_JWKS_MAX_BYTES = 1_048_576;

/**
 * Validates the `jwt` options the RFC 8725 way and turns the key into a
 * `KeyObject`: jsonwebtoken tries to parse a string secret as a PEM key on every
 * verify (about 0.66 ms), and a `KeyObject` spares that (about 15 µs).
 */
export function resolveJwtOptions(jwt: WsAuthJwtOptions): JwtSettings {
  if (typeof jwt !== 'object' || jwt === null) {
    throw new WsAuthConfigurationError(`jwt must be an object such as { secret, algorithms: ['HS256'] }.`);
  }
  const jwks = jwt.jwksUri !== undefined;
  const specs = algorithmSpecs(jwt.algorithms, jwks);
  const family = specs[0]!.family;
  const keys = jwks
    ? { jwks: jwksSettings(jwt) }
    : { key: family === 'HMAC' ? secretKey(jwt, specs) : publicKey(jwt, specs) };
  const clockTolerance = nonNegative(jwt.clockTolerance ?? 0, 'jwt.clockTolerance');
  return {
    ...keys,
    verifyOptions: {
      algorithms: [...jwt.algorithms],
      ...(jwt.issuer !== undefined && { issuer: stringOrList(jwt.issuer, 'jwt.issuer') }),
      ...(jwt.audience !== undefined && { audience: stringOrList(jwt.audience, 'jwt.audience') }),
      clockTolerance,
    },
    clockTolerance,
    maxTokenBytes: positiveInteger(jwt.maxTokenBytes ?? DEFAULT_MAX_TOKEN_BYTES, 'jwt.maxTokenBytes'),
    cacheSize: jwt.cacheSize === 0 ? 0 : positiveInteger(jwt.cacheSize ?? DEFAULT_CACHE_SIZE, 'jwt.cacheSize'),
    ...(jwt.cookie !== undefined && { cookie: cookieName(jwt.cookie) }),
  };
}

function algorithmSpecs(algorithms: unknown, jwks: boolean): AlgorithmSpec[] {
  if (!Array.isArray(algorithms) || algorithms.length === 0) {
    throw new WsAuthConfigurationError(
      `jwt.algorithms is required: pin the algorithms your tokens are signed with, e.g. algorithms: ['HS256'] (RFC 8725 §3.1).`,
    );
  }
  const specs = algorithms.map((algorithm: unknown) => {
    if (typeof algorithm === 'string' && algorithm.toLowerCase() === 'none') {
      throw new WsAuthConfigurationError(`jwt.algorithms must not contain 'none': it accepts unsigned tokens. Remove it.`);
    }
    const spec = typeof algorithm === 'string' ? ALGORITHMS[algorithm] : undefined;
    if (!spec) {
      throw new WsAuthConfigurationError(
        `jwt.algorithms: '${String(algorithm)}' is not supported; use one of ${Object.keys(ALGORITHMS).join(', ')}.`,
      );
    }
    return spec;
  });
  const families = new Set(specs.map((spec) => spec.family));
  if (jwks) {
    // A key set holds one key per algorithm family; each token's key is chosen by its alg and kid.
    if (families.has('HMAC')) {
      throw new WsAuthConfigurationError(
        `jwt.algorithms has HMAC algorithms, which a JSON Web Key Set (jwt.jwksUri) cannot serve: secrets are not published. ` +
          `Use RS*, PS* or ES* algorithms with jwksUri, or jwt.secret for HMAC.`,
      );
    }
    return specs;
  }
  if (families.size > 1) {
    throw new WsAuthConfigurationError(
      `jwt.algorithms mixes ${[...families].join(' and ')} algorithms; one key serves one family (RFC 8725 §3.1). Keep one family.`,
    );
  }
  return specs;
}

function secretKey(jwt: WsAuthJwtOptions, specs: AlgorithmSpec[]): KeyObject {
  if (jwt.publicKey !== undefined) {
    throw new WsAuthConfigurationError(
      `jwt.publicKey is set but jwt.algorithms are HMAC (${jwt.algorithms.join(', ')}), which verify with jwt.secret. Use one or the other.`,
    );
  }
  const { secret } = jwt;
  if (secret === undefined || secret === null || secret === '') {
    throw new WsAuthConfigurationError(
      `jwt.secret is missing: set it, e.g. secret: process.env.JWT_SECRET (${specs[0]!.minSecretBytes} random bytes or more).`,
    );
  }
  let key: KeyObject;
  if (secret instanceof KeyObject) {
    if (secret.type !== 'secret') {
      throw new WsAuthConfigurationError(`jwt.secret is a ${secret.type} KeyObject; HMAC algorithms need a secret key.`);
    }
    key = secret;
  } else if (typeof secret === 'string' || Buffer.isBuffer(secret)) {
    if (String(secret).includes('-----BEGIN')) {
      throw new WsAuthConfigurationError(`jwt.secret looks like a PEM key; pass it as jwt.publicKey with RS/PS/ES algorithms.`);
    }
    key = createSecretKey(typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret);
  } else {
    throw new WsAuthConfigurationError(`jwt.secret must be a string, a Buffer or a secret KeyObject.`);
  }
  const needed = Math.max(...specs.map((spec) => spec.minSecretBytes ?? 0));
  if (key.symmetricKeySize! < needed) {
    throw new WsAuthConfigurationError(
      `jwt.secret is ${key.symmetricKeySize} bytes; ${jwt.algorithms.join(', ')} need at least ${needed} (RFC 7518 §3.2). ` +
        `Generate one: node -e "console.log(crypto.randomBytes(${needed}).toString('base64url'))"`,
    );
  }
  return key;
}

function publicKey(jwt: WsAuthJwtOptions, specs: AlgorithmSpec[]): KeyObject {
  if (jwt.secret !== undefined) {
    throw new WsAuthConfigurationError(
      `jwt.secret is set but jwt.algorithms (${jwt.algorithms.join(', ')}) verify with a public key. Pass jwt.publicKey instead.`,
    );
  }
  if (jwt.publicKey === undefined || jwt.publicKey === null || jwt.publicKey === '') {
    throw new WsAuthConfigurationError(`jwt.publicKey is missing: set it to the PEM public key that verifies your tokens.`);
  }
  let key: KeyObject;
  try {
    const given = jwt.publicKey;
    key = given instanceof KeyObject && given.type === 'public' ? given : createPublicKey(given);
  } catch {
    throw new WsAuthConfigurationError(`jwt.publicKey is not a PEM public key (or a public KeyObject).`);
  }
  for (const [index, spec] of specs.entries()) {
    const algorithm = jwt.algorithms[index];
    if (!spec.keyTypes!.includes(key.asymmetricKeyType!)) {
      throw new WsAuthConfigurationError(
        `jwt.publicKey is an ${key.asymmetricKeyType} key, which cannot verify ${algorithm}. Use a matching key or algorithm.`,
      );
    }
    const details = key.asymmetricKeyDetails ?? {};
    if (spec.curve && details.namedCurve !== spec.curve) {
      throw new WsAuthConfigurationError(
        `jwt.publicKey is on curve ${details.namedCurve}; ${algorithm} needs ${spec.curve}.`,
      );
    }
    if (spec.family === 'RSA' && (details.modulusLength ?? 0) < MIN_RSA_BITS) {
      throw new WsAuthConfigurationError(
        `jwt.publicKey is a ${details.modulusLength}-bit RSA key; use ${MIN_RSA_BITS} bits or more.`,
      );
    }
  }
  return key;
}

function stringOrList(value: unknown, option: string): string | [string, ...string[]] {
  const valid = typeof value === 'string' ? value !== '' : Array.isArray(value) && value.length > 0 &&
    value.every((item) => typeof item === 'string' && item !== '');
  if (!valid) {
    throw new WsAuthConfigurationError(`${option} must be a non-empty string or a non-empty array of them.`);
  }
  return value as string | [string, ...string[]];
}

function cookieName(value: unknown): string {
  if (typeof value !== 'string' || !/^[!#$%&'*+\-.^_`|~\w]+$/.test(value)) {
    throw new WsAuthConfigurationError(`jwt.cookie must be a cookie name such as 'access_token'.`);
  }
  return value;
}

export function positiveInteger(value: unknown, option: string): number {
  if (!Number.isSafeInteger(value) || (value as number) <= 0) {
    throw new WsAuthConfigurationError(`${option} must be a positive whole number; got ${String(value)}.`);
  }
  return value as number;
}

function nonNegative(value: unknown, option: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new WsAuthConfigurationError(`${option} must be a number of seconds, 0 or more; got ${String(value)}.`);
  }
  return value;
}

/**
 * `jwt.jwksUri`: https only, except on loopback hosts (a local issuer, tests);
 * never together with a static key.
 */
function jwksSettings(jwt: WsAuthJwtOptions): JwksSettings {
  for (const option of ['secret', 'publicKey'] as const) {
    if (jwt[option] !== undefined) {
      throw new WsAuthConfigurationError(`jwt.${option} and jwt.jwksUri are both set: keys come from one place. Keep one of them.`);
    }
  }
  let url: URL;
  try {
    url = new URL(String(jwt.jwksUri));
  } catch {
    throw new WsAuthConfigurationError(
      `jwt.jwksUri is not a URL: ${String(jwt.jwksUri)}. Give the issuer's key set, e.g. 'https://issuer.example.com/.well-known/jwks.json'.`,
    );
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url.hostname))) {
    throw new WsAuthConfigurationError(
      `jwt.jwksUri must be an https URL (got ${url.protocol}//${url.host}): keys fetched in the clear can be replaced on the way. ` +
        `Only loopback hosts (localhost, 127.0.0.0/8, [::1]) may use http.`,
    );
  }
  return {
    url,
    cooldownMs: nonNegativeInteger(jwt.jwksCooldownMs ?? DEFAULT_JWKS_COOLDOWN_MS, 'jwt.jwksCooldownMs'),
    timeoutMs: positiveInteger(jwt.jwksTimeoutMs ?? DEFAULT_JWKS_TIMEOUT_MS, 'jwt.jwksTimeoutMs'),
    maxBytes: positiveInteger(jwt.jwksMaxBytes ?? DEFAULT_JWKS_MAX_BYTES, 'jwt.jwksMaxBytes'),
  };
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

function nonNegativeInteger(value: unknown, option: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0) {
    throw new WsAuthConfigurationError(`${option} must be a whole number of milliseconds, 0 or more; got ${String(value)}.`);
  }
  return value as number;
}
