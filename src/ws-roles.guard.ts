import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { holdsAnyRole } from './core/roles.js';
import { WS_AUTH_SETTINGS, WS_ROLES_METADATA } from './ws-auth.internal-constants.js';
import type { WsAuthSettings } from './ws-auth-options.resolver.js';
import { userHolder } from './ws-user.decorator.js';

/** The guard behind `@WsRoles()` (gateways, and GraphQL resolvers: `@Subscription`s); an ordinary Nest guard, so it composes with `@UseGuards`. */
@Injectable()
export class WsRolesGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(WS_AUTH_SETTINGS) private readonly settings: WsAuthSettings,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const roles = this.reflector.getAllAndOverride<string[] | undefined>(WS_ROLES_METADATA, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!roles?.length) {
      return true;
    }
    const { user } = userHolder(context); // the client's, or a GraphQL resolver's context.req
    return user !== null && user !== undefined && holdsAnyRole(this.settings.rolesOf(user), roles);
  }
}
