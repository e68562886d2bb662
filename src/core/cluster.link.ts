import type { MaybePromise } from './maybe-promise.js';
import type { Reservation } from './handshake.interfaces.js';
import type { UserRevocation } from './revocation.list.js';

/** What one node tells the others. */
export type ClusterEvent =
  | { readonly type: 'revoke-user'; readonly userId: string; readonly revocation: UserRevocation; readonly reason: string }
  | { readonly type: 'revoke-token'; readonly jti: string; readonly until: number }
  | { readonly type: 'disconnect'; readonly userId: string; readonly code: number; readonly reason: string };

/**
 * How the core reaches the other nodes of a cluster. Revocations are events
 * (applied at once) and state (stored, reloaded on every reconnect); the
 * per-user limit is a set of leases shared by all nodes.
 */
export interface ClusterLink {
  /** Shares an event: stored (revocations) and published. Rejects while the store is away. */
  publish(event: ClusterEvent): Promise<void>;
  /**
   * Called for each event of another node (`live`: it happened just now), and for
   * each stored revocation on (re)load (`live` false: it may be old news).
   */
  onEvent(listener: (event: ClusterEvent, live: boolean) => void): void;
  /** What this node holds, to write back when the store comes back (possibly empty). */
  onResync(snapshot: () => ClusterEvent[]): void;
  /** A place under `limit` for `userId` among every node's connections; `undefined` when full. */
  reserve(userId: string, limit: number): MaybePromise<Reservation | undefined>;
  /** Loads the stored state before the node serves its first handshake. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** How this node counts its connections, for `countAll()`. */
  countConnections(count: () => number): void;
  /** This node's count changed: it is written to Redis shortly after (coalesced, off the handshake path). */
  countChanged(): void;
  /** Authenticated connections on every live node. */
  countAll(): Promise<number>;
}
