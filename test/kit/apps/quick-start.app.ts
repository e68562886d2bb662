import { randomBytes } from 'node:crypto';
import { Logger, Module } from '@nestjs/common';
import { type OnGatewayConnection, SubscribeMessage } from '@nestjs/websockets';
import { type AuthenticatedWebSocket, type JwtClaims, WsAuthGateway, WsAuthModule, WsUser } from 'nest-ws-auth';
import type { AuthenticatedSocket } from 'nest-ws-auth/socket.io';

/**
 * The README's quick start (its app.module.ts, and the chat.gateway.ts of each transport), importing nest-ws-auth by
 * name, for the README's testing examples (test/kit/readme-example*.e2e-spec.ts). Its secret is made here rather than
 * read from JWT_SECRET; the tests never see it (the kit signs through the app's DI). npm run test:compat runs the
 * README's own files in apps made by `nest new`.
 */
const jwt = { secret: randomBytes(32).toString('base64url'), algorithms: ['HS256' as const], issuer: 'my-app', audience: 'my-app' };

@WsAuthGateway({ path: '/chat' })
export class ChatGateway implements OnGatewayConnection {
  private readonly logger = new Logger(ChatGateway.name);

  handleConnection(client: AuthenticatedWebSocket<JwtClaims>) {
    this.logger.log(`${client.user.sub} connected`);
  }

  @SubscribeMessage('whoami')
  whoami(@WsUser() user: JwtClaims) {
    return { event: 'whoami', data: user.sub };
  }
}

@WsAuthGateway({ namespace: '/chat' })
export class IoChatGateway implements OnGatewayConnection {
  private readonly logger = new Logger(IoChatGateway.name);

  handleConnection(client: AuthenticatedSocket<JwtClaims>) {
    this.logger.log(`${client.data.user.sub} connected`);
  }

  @SubscribeMessage('whoami')
  whoami(@WsUser('sub') sub: string) {
    return sub;
  }
}

/** The quick start on ws. */
@Module({ imports: [WsAuthModule.forRoot({ jwt })], providers: [ChatGateway] })
export class AppModule {}

/** The quick start on Socket.IO. */
@Module({ imports: [WsAuthModule.forRoot({ jwt })], providers: [IoChatGateway] })
export class IoAppModule {}
