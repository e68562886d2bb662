import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit, Optional } from '@nestjs/common';
import { WsAuthCloseCode } from './ws-auth.constants.js';
import { loggable } from './ws-auth.exceptions.js';
import { CLUSTER_LINK, CONNECTION_REGISTRY, WS_AUTH_CLOCK, WS_AUTH_SETTINGS } from './core.constants.js';
import { type Clock, systemClock } from './clock.js';
import type { CoreSettings } from './core.settings.js';
import type { ClusterEvent, ClusterLink } from './cluster.link.js';
import type { ConnectionRegistry } from './connection.registry.js';
import { type IssuedCredential, RevocationList, type UserRevocation } from './revocation.list.js';

/** Sweeps expired revocations this often. */
const PRUNE_INTERVAL_MS = 60_000;

/**
 * Revocations that stick: the in-memory list every handshake and refresh is
 * checked against, kept in step with the other nodes when a cluster link is
 * configured (published, stored, reloaded), and the closes they cause.
 */
@Injectable()
export class RevocationService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('WsAuth');
  readonly list: RevocationList;
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    @Inject(WS_AUTH_SETTINGS) private readonly settings: CoreSettings,
    @Inject(CONNECTION_REGISTRY) private readonly registry: ConnectionRegistry,
    @Inject(CLUSTER_LINK) private readonly cluster: ClusterLink | null,
    @Optional() @Inject(WS_AUTH_CLOCK) private readonly clock: Clock = systemClock,
  ) {
    this.list = new RevocationList(() => this.clock.now());
    this.sweeper = setInterval(() => this.list.prune(), PRUNE_INTERVAL_MS).unref();
    cluster?.onEvent((event, live) => this.apply(event, live));
    cluster?.onResync(() => this.snapshot());
  }

  /** Why `credential` of `userId` is refused, if it is: checked in memory, never on Redis. */
  refusal(userId: string, credential: IssuedCredential | undefined): 'user' | 'token' | undefined {
    return this.list.size === 0 ? undefined : this.list.refusal(userId, credential);
  }

  async revokeUser(userId: string, reason: string, until: Date | undefined): Promise<void> {
    const now = this.clock.now();
    const untilMs = until?.getTime();
    const revocation: UserRevocation = {
      // A token the issuer signed up to clockTolerance "later" (its clock runs ahead) is as old as this revocation.
      before: now + (this.settings.jwt?.clockTolerance ?? 0) * 1000,
      ...(untilMs !== undefined && untilMs > now && { until: untilMs }),
      expiresAt: Math.max(now + this.settings.revocationTtlSeconds * 1000, untilMs ?? 0),
    };
    this.applyUser(userId, revocation, reason, true);
    await this.share({ type: 'revoke-user', userId, revocation, reason });
  }

  async revokeToken(jti: string, expiresAt: Date | undefined): Promise<void> {
    const until = expiresAt?.getTime() ?? this.clock.now() + this.settings.revocationTtlSeconds * 1000;
    this.list.revokeToken(jti, until);
    this.registry.closeWhere((credential) => credential?.jti === jti, WsAuthCloseCode.Unauthorized, 'token revoked');
    await this.share({ type: 'revoke-token', jti, until });
  }

  /** A node loads the revocations in force before it serves its first handshake. */
  async onModuleInit(): Promise<void> {
    await this.cluster?.start();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.sweeper);
    await this.cluster?.stop();
  }

  /** What another node did (`live`), or what a reload found, applied here. */
  private apply(event: ClusterEvent, live: boolean): void {
    switch (event.type) {
      case 'revoke-user':
        return this.applyUser(event.userId, event.revocation, event.reason, live);
      case 'revoke-token':
        this.list.revokeToken(event.jti, event.until);
        this.registry.closeWhere((credential) => credential?.jti === event.jti, WsAuthCloseCode.Unauthorized, 'token revoked');
        return;
      case 'disconnect':
        this.registry.disconnectUser(event.userId, event.code, event.reason);
        return;
    }
  }

  /**
   * Records a user's revocation and closes their connections. A revocation made
   * now (here, or on another node and published) closes every open connection of
   * the user, whatever its token's `iat` says: an issuer whose clock runs ahead
   * must not keep a revoked user online. One reloaded from Redis (after an outage)
   * closes only connections whose credential it covers, since the others may have
   * opened since, with credentials issued after it.
   */
  private applyUser(userId: string, revocation: UserRevocation, reason: string, live: boolean): void {
    const inForce = this.list.revokeUser(userId, revocation);
    if (live) {
      this.registry.disconnectUser(userId, WsAuthCloseCode.Forbidden, reason);
      return;
    }
    const now = this.clock.now();
    this.registry.disconnectUser(userId, WsAuthCloseCode.Forbidden, reason, (credential) =>
      RevocationList.covers(inForce, credential, now),
    );
  }

  /** Everything in force, for a node that resynchronises with Redis (write-back after an outage or a flush). */
  private snapshot(): ClusterEvent[] {
    const events: ClusterEvent[] = [];
    for (const [userId, revocation] of this.list.userEntries()) {
      events.push({ type: 'revoke-user', userId, revocation, reason: 'revoked' });
    }
    for (const [jti, until] of this.list.tokenEntries()) {
      events.push({ type: 'revoke-token', jti, until });
    }
    return events;
  }

  /** Tells the other nodes. Never throws: with Redis away a revocation holds here and is written back on reconnect. */
  async share(event: ClusterEvent): Promise<void> {
    try {
      await this.cluster?.publish(event);
    } catch (error) {
      this.logger.warn(`could not share a ${event.type} with the other nodes yet; it is kept and resent on reconnect. ${loggable(error, undefined)}`);
    }
  }
}
