// 'nest-ws-auth/socket.io': the whole API and the Socket.IO adapter (needs @nestjs/platform-socket.io, never
// @nestjs/platform-ws).
export * from '../public-api.js';
export type { AuthenticatedSocket, WsAuthSocketData } from './authenticated-socket.interface.js';
export { WsAuthIoAdapter, type WsAuthRefreshAck } from './ws-auth-io.adapter.js';
