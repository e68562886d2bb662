import { Module } from '@nestjs/common';
import { WsAuthModule } from 'nest-ws-auth';
import { AuthController } from './auth.controller.js';
import { ChatGateway } from './chat.gateway.js';
import { config } from './config.js';
import { sessionMiddleware } from './session.js';
import { SessionSerializer } from './session.serializer.js';
import { TokensService } from './tokens.service.js';
import { UsersService } from './users.service.js';

const users = new UsersService();

@Module({
  imports: [
    WsAuthModule.forRoot({
      // The web app's session cookie first (browsers), then a token (header, subprotocol or ?token=).
      strategies: ['session', 'jwt'],
      session: sessionMiddleware,
      jwt: { secret: config.jwtSecret, algorithms: ['HS256'], issuer: config.issuer, audience: config.issuer },
      resolveUser: (claims) => users.findById(claims.sub),
      allowedOrigins: [...config.allowedOrigins],
    }),
  ],
  controllers: [AuthController],
  providers: [ChatGateway, SessionSerializer, TokensService, { provide: UsersService, useValue: users }],
})
export class AppModule {}
