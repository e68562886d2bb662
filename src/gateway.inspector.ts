import { MetadataScanner } from '@nestjs/core';
import { GATEWAY_METADATA, MESSAGE_METADATA, PARAM_ARGS_METADATA } from './nest-metadata.keys.js';
import { WS_AUTH_REFRESH_EVENT } from './core/ws-auth.constants.js';
import { WS_ROLES_METADATA } from './ws-auth.internal-constants.js';
import { guardedGatewayOf } from './ws-auth-gateway.decorator.js';
import { wsUserFactory } from './ws-user.decorator.js';

const scanner = new MetadataScanner();

/**
 * Mistakes in how gateways use the library, found at start-up rather than by
 * a user at run time: a guarded gateway's own handler for the refresh event
 * (the library answers it), and `@WsUser()` / `@WsRoles()` on a plain
 * `@WebSocketGateway`, whose clients never have a user. Returns one message
 * per mistake, each naming the fix.
 */
export function gatewayMistakes(classes: readonly Function[]): string[] {
  const mistakes: string[] = [];
  for (const gateway of classes) {
    if (Reflect.getMetadata(GATEWAY_METADATA, gateway) !== true) {
      continue;
    }
    const guarded = guardedGatewayOf(gateway) !== undefined;
    const prototype = gateway.prototype as Record<string, Function>;
    if (!guarded && Reflect.getMetadata(WS_ROLES_METADATA, gateway) !== undefined) {
      mistakes.push(`${gateway.name} uses @WsRoles() but is not a @WsAuthGateway, so its clients have no user: make it a @WsAuthGateway.`);
    }
    for (const method of scanner.getAllMethodNames(prototype)) {
      const handler = prototype[method]!;
      const where = `${gateway.name}.${method}`;
      if (guarded && Reflect.getMetadata(MESSAGE_METADATA, handler) === WS_AUTH_REFRESH_EVENT) {
        mistakes.push(
          `${where} handles '${WS_AUTH_REFRESH_EVENT}', which nest-ws-auth answers itself on a @WsAuthGateway: rename the event or remove the handler.`,
        );
      }
      if (!guarded && Reflect.getMetadata(WS_ROLES_METADATA, handler) !== undefined) {
        mistakes.push(`${where} uses @WsRoles() but ${gateway.name} is not a @WsAuthGateway, so its clients have no user: make it a @WsAuthGateway.`);
      }
      if (!guarded && usesWsUser(gateway, method)) {
        mistakes.push(`${where} uses @WsUser() but ${gateway.name} is not a @WsAuthGateway, so it would always be undefined: make it a @WsAuthGateway.`);
      }
    }
  }
  return mistakes;
}

function usesWsUser(gateway: Function, method: string): boolean {
  const parameters: Record<string, { factory?: unknown }> = Reflect.getMetadata(PARAM_ARGS_METADATA, gateway, method) ?? {};
  return Object.values(parameters).some((parameter) => parameter.factory === wsUserFactory);
}
