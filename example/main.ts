import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { WsAuthAdapter } from 'nest-ws-auth/ws';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import passport from 'passport';
import { AppModule } from './app.module.js';
import { config } from './config.js';
import { sessionMiddleware } from './session.js';
import { TokensService } from './tokens.service.js';
import { UsersService } from './users.service.js';

const app = await NestFactory.create<NestExpressApplication>(AppModule);
app.use(sessionMiddleware);
app.use(passport.session());
app.useStaticAssets(join(import.meta.dirname, '../example/public'));
app.useWebSocketAdapter(new WsAuthAdapter(app));
await app.listen(config.port);

const { port } = app.getHttpServer().address() as AddressInfo;
const { token } = app.get(TokensService).issue(app.get(UsersService).findById('alice')!, 3600);
console.log(`
nest-ws-auth example: ws://localhost:${port}/chat

In a browser: http://localhost:${port}/  (users alice/alice, an admin, and bob/bob)

A dev token for alice (admin), valid one hour:
  ${token}

Connect with it from a terminal (type lines to chat, Ctrl-C to leave):
  node example/client.mjs ws://localhost:${port}/chat ${token}
`);
