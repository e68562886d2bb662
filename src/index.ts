export * from './public-api.js';
// The ws adapter, here since the first release. It loads @nestjs/platform-ws: a Socket.IO app, which has only
// @nestjs/platform-socket.io, imports everything of nest-ws-auth/socket.io instead (the same API, its adapter).
export { WsAuthAdapter } from './ws/ws-auth.adapter.js';
