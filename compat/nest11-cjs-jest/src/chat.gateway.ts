import { SubscribeMessage } from '@nestjs/websockets';
import { WsAuthGateway, WsRoles, WsUser } from 'nest-ws-auth';

@WsAuthGateway({ path: '/chat' })
export class ChatGateway {
  @SubscribeMessage('whoami')
  whoami(@WsUser() user: unknown) {
    return { event: 'whoami', data: user };
  }

  @SubscribeMessage('ban')
  @WsRoles('admin')
  ban(@WsUser('sub') sub: string) {
    return { event: 'banned', data: { by: sub } };
  }
}
