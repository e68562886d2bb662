/** What the cache needs of verified claims: when they expire (unix seconds). */
export interface ExpiringClaims {
  readonly exp: number;
}

/**
 * Tokens that passed every check, with their claims, so that a client
 * reconnecting with the same token is not verified again. Keyed by the whole
 * token (signature included), so only what was verified can be found; an
 * entry is dropped once its `exp` (+ tolerance) passes. Bounded: the oldest
 * entry makes room.
 */
export class VerifiedTokenCache<Claims extends ExpiringClaims = ExpiringClaims> {
  private readonly entries = new Map<string, Readonly<Claims>>();

  constructor(
    private readonly capacity: number,
    private readonly clockTolerance: number,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The claims of a verified token that has not expired since, as a deep copy:
   * every connection gets claims (and a `client.user`, when `resolveUser`
   * defaults to them) of its own, `roles` array included. A copy of plain JSON
   * costs about 0.2 µs; `structuredClone` about 1.9 µs.
   */
  get(token: string): Claims | undefined {
    const claims = this.entries.get(token);
    if (claims === undefined) {
      return undefined;
    }
    // The same test jsonwebtoken applies; nbf needs none: a token is only cached once active.
    if (Math.floor(this.now() / 1000) >= claims.exp + this.clockTolerance) {
      this.entries.delete(token);
      return undefined;
    }
    return copyJson(claims);
  }

  set(token: string, claims: Claims): void {
    if (this.capacity === 0) {
      return;
    }
    if (this.entries.size >= this.capacity) {
      this.entries.delete(this.entries.keys().next().value!);
    }
    // A private, frozen copy, never handed out (get copies it): the app cannot change it.
    this.entries.set(token, deepFreeze(copyJson(claims)));
  }

  get size(): number {
    return this.entries.size;
  }
}

/** A deep copy of JSON data (what a JWT payload decodes to). */
function copyJson<T>(value: T): T {
  if (Array.isArray(value)) {
    return value.map(copyJson) as T;
  }
  if (typeof value === 'object' && value !== null) {
    const copy: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      const item = copyJson((value as Record<string, unknown>)[key]);
      if (key === '__proto__') {
        // JSON.parse makes "__proto__" an own property; an assignment would set the prototype.
        Object.defineProperty(copy, key, { value: item, enumerable: true, writable: true, configurable: true });
      } else {
        copy[key] = item;
      }
    }
    return copy as T;
  }
  return value;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const item of Object.values(value)) {
      deepFreeze(item);
    }
    Object.freeze(value);
  }
  return value;
}
