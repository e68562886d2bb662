export type { AuthenticatedSocket, WsAuthSocketData } from './authenticated-socket.interface.js';
export { WsAuthIoAdapter, type WsAuthRefreshAck } from './ws-auth-io.adapter.js';
