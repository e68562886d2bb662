/** What a revocation is checked against: a JWT's `iat` (seconds) and `jti`, when the credential has them. */
export interface IssuedCredential {
  readonly iat?: number;
  readonly jti?: string;
}

/** A user's revocation: credentials issued at or before `before` are refused; until `until`, all of them. */
export interface UserRevocation {
  /** Unix milliseconds: credentials issued at or before this second are refused. */
  readonly before: number;
  /** Unix milliseconds: a ban, refusing every credential of the user until then. */
  readonly until?: number;
  /** Unix milliseconds: when the entry can be forgotten (no credential it covers is valid any more). */
  readonly expiresAt: number;
}

/**
 * Revoked users and tokens of this process, checked on every handshake and
 * refresh in O(1) (two Map look-ups). Entries expire by themselves: a check
 * drops an expired entry, and `prune()` sweeps the rest.
 */
export class RevocationList {
  private readonly users = new Map<string, UserRevocation>();
  /** jti → unix milliseconds until which the token is refused. */
  private readonly tokens = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Records (or merges: the later `before`, `until` and expiry win) a user's revocation; returns what is in force. */
  revokeUser(userId: string, revocation: UserRevocation): UserRevocation {
    const known = this.users.get(userId);
    const merged = known ? mergeRevocations(known, revocation) : revocation;
    this.users.set(userId, merged);
    return merged;
  }

  revokeToken(jti: string, expiresAt: number): void {
    if (expiresAt > (this.tokens.get(jti) ?? 0)) {
      this.tokens.set(jti, expiresAt);
    }
  }

  /** Why a credential of `userId` is refused, or `undefined` if it is not. */
  refusal(userId: string, credential: IssuedCredential | undefined): 'user' | 'token' | undefined {
    const now = this.now();
    const user = this.users.get(userId);
    if (user !== undefined) {
      if (user.expiresAt <= now) {
        this.users.delete(userId);
      } else if (coversCredential(user, credential, now)) {
        return 'user';
      }
    }
    const jti = credential?.jti;
    if (jti !== undefined && this.tokens.size > 0) {
      const until = this.tokens.get(jti);
      if (until !== undefined) {
        if (until > now) {
          return 'token';
        }
        this.tokens.delete(jti);
      }
    }
    return undefined;
  }

  /** Whether a connection opened with `credential` must close now that `revocation` is in force. */
  static covers(revocation: UserRevocation, credential: IssuedCredential | undefined, now: number): boolean {
    return coversCredential(revocation, credential, now);
  }

  userEntries(): IterableIterator<[string, UserRevocation]> {
    return this.users.entries();
  }

  tokenEntries(): IterableIterator<[string, number]> {
    return this.tokens.entries();
  }

  get size(): number {
    return this.users.size + this.tokens.size;
  }

  /** Forgets every entry that no longer refuses anything. */
  prune(): void {
    const now = this.now();
    for (const [userId, revocation] of this.users) {
      if (revocation.expiresAt <= now) this.users.delete(userId);
    }
    for (const [jti, until] of this.tokens) {
      if (until <= now) this.tokens.delete(jti);
    }
  }
}

/**
 * A ban refuses everything until `until`. Otherwise a credential is covered if it
 * was issued in the second of the revocation or before (`iat` has whole
 * seconds); a credential that carries no `iat` (a session, an API key) is not:
 * revoke those where they live (log the session out, delete the key).
 */
function coversCredential(revocation: UserRevocation, credential: IssuedCredential | undefined, now: number): boolean {
  if (revocation.until !== undefined && now < revocation.until) {
    return true;
  }
  const iat = credential?.iat;
  return iat !== undefined && iat <= Math.floor(revocation.before / 1000);
}

export function mergeRevocations(a: UserRevocation, b: UserRevocation): UserRevocation {
  const until = Math.max(a.until ?? 0, b.until ?? 0);
  return {
    before: Math.max(a.before, b.before),
    ...(until > 0 && { until }),
    expiresAt: Math.max(a.expiresAt, b.expiresAt),
  };
}
