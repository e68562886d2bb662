// Everything of nest-ws-auth that is the same for every transport. Re-exported by each entry point:
// 'nest-ws-auth' (which also has the ws adapter), 'nest-ws-auth/ws' and 'nest-ws-auth/socket.io'.
export type { AuthenticatedWebSocket } from './authenticated-websocket.interface.js';
export {
  WS_AUTH_PROTOCOL_PREFIX,
  WS_AUTH_REFRESH_EVENT,
  WS_AUTH_REFRESHED_EVENT,
  WsAuthCloseCode,
} from './core/ws-auth.constants.js';
export { WsAuthConfigurationError } from './core/ws-auth.exceptions.js';
export { WsAuthGateway, type WsAuthGatewayMetadata } from './ws-auth-gateway.decorator.js';
export { WsAuthModule } from './ws-auth.module.js';
export { InjectWsAuthOptions, WS_AUTH_MODULE_OPTIONS } from './ws-auth.module-definition.js';
export type {
  FailedHandshakesOptions,
  JwtClaims,
  ResolveUser,
  SessionMiddleware,
  WsAuthGatewayOptions,
  WsAuthGuard,
  WsAuthJwtOptions,
  WsAuthMetricsOptions,
  WsAuthModuleOptions,
  PrometheusRegistryLike,
} from './ws-auth-module-options.interface.js';
export {
  WsAuthEvents,
  type WsAuthConnectedEvent,
  type WsAuthEventListener,
  type WsAuthEventMap,
  type WsAuthEventName,
  type WsAuthExpiredEvent,
  type WsAuthRefreshedEvent,
  type WsAuthRefusedEvent,
  type WsAuthRevokedEvent,
  type WsAuthTransportName,
} from './ws-auth-events.service.js';
export { type DisconnectOptions, WsAuthConnections } from './ws-auth-connections.service.js';
export { HandshakeExecutionContext, HandshakeResponse } from './guards/handshake-execution-context.js';
export { isWsAuthClient, wsAuthUserId } from './guards/ws-auth-client.js';
export { WsRoles } from './ws-roles.decorator.js';
export { WsRolesGuard } from './ws-roles.guard.js';
export { WsUser } from './ws-user.decorator.js';
