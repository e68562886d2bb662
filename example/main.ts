import { NestFactory } from '@nestjs/core';
import { WsAuthAdapter } from 'nest-ws-auth';
import type { AddressInfo } from 'node:net';
import { AppModule } from './app.module.js';
import { config } from './config.js';
import { TokensService } from './tokens.service.js';
import { UsersService } from './users.service.js';

const app = await NestFactory.create(AppModule);
app.useWebSocketAdapter(new WsAuthAdapter(app));
await app.listen(config.port);

const { port } = app.getHttpServer().address() as AddressInfo;
const token = app.get(TokensService).issue(app.get(UsersService).findById('alice')!, 3600);
console.log(`
nest-ws-auth example: ws://localhost:${port}/chat

A dev token for alice (admin), valid one hour:
  ${token}

Connect with it (type lines to chat, Ctrl-C to leave):
  node example/client.mjs ws://localhost:${port}/chat ${token}
`);
