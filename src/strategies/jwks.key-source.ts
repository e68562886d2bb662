import { KeyObject } from 'node:crypto';
import type { createRemoteJWKSet, FetchImplementation, JWSHeaderParameters } from 'jose';
import { ServiceUnavailableError } from '../core/ws-auth.exceptions.js';
import { type JwksSettings, MIN_RSA_BITS } from './jwt-options.resolver.js';
import { AuthFailure } from '../core/strategy.contract.js';

/** After a failed fetch, the key set is not fetched again for this long: an issuer that is down is not hammered. */
const RETRY_AFTER_FAILURE_MS = 1000;

const NO_MATCHING_KEY = new AuthFailure('Invalid token');

/**
 * The keys of `jwt.jwksUri`, through jose's `createRemoteJWKSet`: fetched once
 * and cached (`cacheMaxAge` 10 minutes), one fetch in flight at a time, a
 * token with an unknown `kid` refetches at most once per `cooldownMs` (so a
 * rotated key is found without a restart, and forged `kid`s cannot make the
 * server hammer the issuer), each fetch bounded by `timeoutMs`. A failed
 * fetch is not retried for a second. Keys come out as `KeyObject`s, which
 * jsonwebtoken verifies with.
 */
export class JwksKeySource {
  /**
   * jose is loaded only by apps that configure `jwksUri`: it is ESM-only, and a
   * CommonJS test runner (Jest in a Nest 11 app) cannot load it for everyone else.
   */
  private readonly jose = import('jose');
  private keySet: ReturnType<typeof createRemoteJWKSet> | undefined;
  private readonly keyObjects = new WeakMap<object, KeyObject | AuthFailure>();
  private failedAt = -Infinity;

  constructor(
    private readonly settings: JwksSettings,
    private readonly now: () => number = Date.now,
  ) {
    // Loaded at start-up; a failure to load shows at the first handshake as a 503.
    this.jose.catch(() => {});
  }

  /**
   * The key that verifies a token with this header: an AuthFailure if the set
   * has none (a 401); rejects with a ServiceUnavailableError if the set cannot
   * be fetched (a 503).
   */
  async keyFor(header: JWSHeaderParameters): Promise<KeyObject | AuthFailure> {
    let cryptoKey: object;
    const { createRemoteJWKSet, customFetch, errors } = await this.jose;
    this.keySet ??= createRemoteJWKSet(this.settings.url, {
      cooldownDuration: this.settings.cooldownMs,
      timeoutDuration: this.settings.timeoutMs,
      [customFetch]: this.fetch,
    });
    try {
      cryptoKey = await this.keySet(header);
    } catch (error) {
      if (
        error instanceof errors.JWKSNoMatchingKey ||
        error instanceof errors.JWKSMultipleMatchingKeys ||
        error instanceof errors.JOSENotSupported
      ) {
        return NO_MATCHING_KEY;
      }
      throw new ServiceUnavailableError('Key set unavailable', { cause: error });
    }
    let key = this.keyObjects.get(cryptoKey);
    if (key === undefined) {
      key = toKeyObject(cryptoKey);
      this.keyObjects.set(cryptoKey, key);
    }
    return key;
  }

  /**
   * fetch, except within a second of a failed fetch. A 200 whose body is not a
   * usable key set (not JSON, not `{ keys: [...] }` with a key in it, larger
   * than `maxBytes`, too slow) is a failed fetch too: one bad deploy of the
   * issuer must not turn every handshake into a download.
   */
  private readonly fetch: FetchImplementation = async (url, options) => {
    if (this.now() - this.failedAt < RETRY_AFTER_FAILURE_MS) {
      throw new Error(`the last fetch of ${url} failed less than ${RETRY_AFTER_FAILURE_MS} ms ago`);
    }
    try {
      const response = await fetch(url, options);
      if (response.status !== 200) {
        this.failedAt = this.now();
        await response.body?.cancel().catch(() => {});
        return response;
      }
      const body = await readKeySet(response, this.settings.maxBytes);
      return new Response(body, { status: 200, headers: { 'content-type': 'application/json' } });
    } catch (error) {
      this.failedAt = this.now();
      throw error;
    }
  };
}

/** The body of a key set answer, read up to `maxBytes`, if it is a JSON Web Key Set with at least one key. */
async function readKeySet(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > maxBytes) {
    await response.body?.cancel().catch(() => {});
    throw new Error(`the key set is ${declared} bytes, more than jwksMaxBytes (${maxBytes})`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of (response.body ?? []) as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > maxBytes) {
      await response.body?.cancel().catch(() => {});
      throw new Error(`the key set is more than jwksMaxBytes (${maxBytes}) bytes`);
    }
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error('the key set is not JSON');
  }
  const keys = (parsed as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || !keys.some((key) => typeof (key as { kty?: unknown } | null)?.kty === 'string')) {
    throw new Error('the key set has no keys (expected { "keys": [ { "kty": … } ] })');
  }
  return text;
}

/** A published key as jsonwebtoken takes it; RSA keys under 2048 bits are refused (RFC 8725 §3.5). */
function toKeyObject(cryptoKey: object): KeyObject | AuthFailure {
  const key = KeyObject.from(cryptoKey as Parameters<typeof KeyObject.from>[0]);
  const bits = key.asymmetricKeyDetails?.modulusLength;
  return bits !== undefined && bits < MIN_RSA_BITS ? NO_MATCHING_KEY : key;
}
