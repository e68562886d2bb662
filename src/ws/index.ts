// 'nest-ws-auth/ws': the whole API and the ws adapter (needs @nestjs/platform-ws).
export * from '../public-api.js';
export { WsAuthAdapter } from './ws-auth.adapter.js';
