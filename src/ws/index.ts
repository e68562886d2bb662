export type { AuthenticatedWebSocket } from '../authenticated-websocket.interface.js';
export { WsAuthAdapter } from './ws-auth.adapter.js';
