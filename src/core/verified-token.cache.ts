import type { JwtClaims } from '../ws-auth-module-options.interface.js';

/**
 * Tokens that passed every check, with their claims, so that a client
 * reconnecting with the same token is not verified again. Keyed by the whole
 * token (signature included), so only what was verified can be found; an
 * entry is dropped once its `exp` (+ tolerance) passes. Bounded: the oldest
 * entry makes room.
 */
export class VerifiedTokenCache {
  private readonly entries = new Map<string, Readonly<JwtClaims>>();

  constructor(
    private readonly capacity: number,
    private readonly clockTolerance: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The claims of a verified token that has not expired since, as a fresh copy. */
  get(token: string): JwtClaims | undefined {
    const claims = this.entries.get(token);
    if (claims === undefined) {
      return undefined;
    }
    // The same test jsonwebtoken applies; nbf needs none: a token is only cached once active.
    if (Math.floor(this.now() / 1000) >= claims.exp + this.clockTolerance) {
      this.entries.delete(token);
      return undefined;
    }
    return { ...claims };
  }

  set(token: string, claims: JwtClaims): void {
    if (this.capacity === 0) {
      return;
    }
    if (this.entries.size >= this.capacity) {
      this.entries.delete(this.entries.keys().next().value!);
    }
    // A private copy, never handed out (get copies it): the app cannot change it.
    this.entries.set(token, { ...claims });
  }

  get size(): number {
    return this.entries.size;
  }
}
