import { NestFactory } from '@nestjs/core';
import { WsAuthAdapter } from 'nest-ws-auth';
import { AppModule } from './app.module';

async function bootstrap() {
  const app = await NestFactory.create(AppModule);
  app.useWebSocketAdapter(new WsAuthAdapter(app));
  await app.listen(process.env.PORT ?? 3000);
}
bootstrap();
