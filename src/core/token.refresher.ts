import { Inject, Injectable, Logger } from '@nestjs/common';
import { AuthFailure, type StrategyRegistry, type TokenVerifier, type VerifiedToken } from './strategy.contract.js';
import { WsAuthCloseCode } from './ws-auth.constants.js';
import { loggable } from './ws-auth.exceptions.js';
import { CONNECTION_REGISTRY, STRATEGY_REGISTRY, WS_AUTH_SETTINGS } from './core.constants.js';
import type { CoreSettings } from './core.settings.js';
import type { ConnectionRegistry } from './connection.registry.js';
import { RevocationService } from './revocation.service.js';
import { holdsAnyRole } from './roles.js';

/** What an in-band refresh decided; each transport answers it in its own words. */
export type RefreshDecision =
  /** The same user, still entitled: the connection now expires at `exp`. */
  | { readonly kind: 'refreshed'; readonly exp: number }
  /** A malformed or unserviceable request: the connection stays open. */
  | { readonly kind: 'refused'; readonly message: string }
  /** The connection must close with `code` and `reason`. */
  | { readonly kind: 'close'; readonly code: number; readonly reason: string }
  /** The connection closed (expired, revoked) while the token was being checked. */
  | { readonly kind: 'gone' };

const refused = (message: string): RefreshDecision => ({ kind: 'refused', message });
const GONE: RefreshDecision = { kind: 'gone' };

/**
 * In-band refresh (`auth:refresh` with `{ token }`), for every transport: the
 * token is checked like at the handshake, it must belong to the same user, and
 * that user must still hold the gateway's roles. A bad token closes 4401,
 * another user or a lost role 4403.
 */
@Injectable()
export class TokenRefresher {
  private readonly logger = new Logger('WsAuth');
  /** The built-in jwt strategy's check, when it is configured. */
  private readonly jwt: TokenVerifier | null;

  constructor(
    @Inject(WS_AUTH_SETTINGS) private readonly settings: CoreSettings,
    @Inject(CONNECTION_REGISTRY) private readonly registry: ConnectionRegistry,
    @Inject(STRATEGY_REGISTRY) strategies: StrategyRegistry,
    private readonly revocations: RevocationService,
  ) {
    this.jwt = strategies.tokenVerifier;
  }

  async refresh(client: object, data: unknown): Promise<RefreshDecision> {
    const token = (data as { token?: unknown } | null | undefined)?.token;
    if (typeof token !== 'string' || token === '') {
      return refused('auth:refresh needs data.token, a non-empty string');
    }
    const userId = this.registry.userIdOf(client);
    if (userId === undefined) {
      return refused('auth:refresh needs an authenticated connection');
    }
    if (!this.jwt) {
      return refused('auth:refresh needs the built-in jwt strategy (the jwt option of WsAuthModule)');
    }
    let verdict: VerifiedToken | AuthFailure;
    let refreshedId: string | undefined;
    let entitled = true;
    try {
      verdict = await this.jwt.verify(token);
      if (!(verdict instanceof AuthFailure)) {
        refreshedId = this.settings.userId(verdict.user);
        const roles = this.registry.policyOf(client)?.roles;
        entitled = roles === undefined || holdsAnyRole(this.settings.rolesOf(verdict.user), roles);
      }
    } catch (error) {
      this.logger.error(`auth:refresh failed: ${loggable(error, token)}`);
      return refused('auth:refresh failed; try again');
    }
    // Closed, expired or revoked while the token was being checked.
    if (this.registry.userIdOf(client) !== userId) {
      return GONE;
    }
    if (verdict instanceof AuthFailure) {
      return { kind: 'close', code: WsAuthCloseCode.Unauthorized, reason: verdict.message.toLowerCase() };
    }
    if (refreshedId !== userId) {
      return { kind: 'close', code: WsAuthCloseCode.Forbidden, reason: 'token belongs to another user' };
    }
    if (this.revocations.refusal(userId, verdict.credential)) {
      return { kind: 'close', code: WsAuthCloseCode.Unauthorized, reason: 'token revoked' };
    }
    if (!entitled) {
      return { kind: 'close', code: WsAuthCloseCode.Forbidden, reason: 'insufficient role' };
    }
    this.registry.renew(client, verdict.user, verdict.exp, verdict.credential);
    return { kind: 'refreshed', exp: verdict.exp };
  }
}
