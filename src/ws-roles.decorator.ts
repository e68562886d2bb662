import { applyDecorators, SetMetadata, UseGuards } from '@nestjs/common';
import { WS_ROLES_METADATA } from './ws-auth.internal-constants.js';
import { WsRolesGuard } from './ws-roles.guard.js';

/**
 * Runs the handler (or every handler of the gateway) only for users holding at
 * least one of `roles`, read with the `rolesOf` option. Anyone else gets an
 * `exception` frame ("Forbidden resource") and keeps the connection.
 */
export const WsRoles = (...roles: string[]): MethodDecorator & ClassDecorator =>
  applyDecorators(SetMetadata(WS_ROLES_METADATA, roles), UseGuards(WsRolesGuard));
