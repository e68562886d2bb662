import { Module } from '@nestjs/common';
import { WsAuthModule } from 'nest-ws-auth';
import { AppController } from './app.controller';
import { AppService } from './app.service';
import { ChatGateway } from './chat.gateway';

/** HS256 needs 32 bytes or more; the fallback is for this test app only. */
export const JWT_SECRET = process.env.JWT_SECRET ?? 'compat-fixture-secret-not-for-production';

@Module({
  imports: [WsAuthModule.forRoot({ jwt: { secret: JWT_SECRET, algorithms: ['HS256'] } })],
  controllers: [AppController],
  providers: [AppService, ChatGateway],
})
export class AppModule {}
