import { Module } from '@nestjs/common';
import { WsAuthModule } from 'nest-ws-auth';
import { ChatGateway } from './chat.gateway.js';
import { config } from './config.js';
import { TokensService } from './tokens.service.js';
import { UsersService } from './users.service.js';

const users = new UsersService();

@Module({
  imports: [
    WsAuthModule.forRoot({
      jwt: { secret: config.jwtSecret, algorithms: ['HS256'], issuer: config.issuer, audience: config.issuer },
      resolveUser: (claims) => users.findById(claims.sub),
    }),
  ],
  providers: [ChatGateway, TokensService, { provide: UsersService, useValue: users }],
})
export class AppModule {}
