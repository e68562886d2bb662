import { MessageBody, type OnGatewayConnection, SubscribeMessage, WebSocketServer } from '@nestjs/websockets';
import { type AuthenticatedWebSocket, WsAuthGateway, WsUser } from 'nest-ws-auth';
import type { WebSocketServer as Server } from 'ws';
import type { User } from './users.service.js';

/** Only authenticated users ever get here: `client.user` is set before handleConnection. */
@WsAuthGateway({ path: '/chat' })
export class ChatGateway implements OnGatewayConnection {
  @WebSocketServer()
  private readonly server!: Server;

  handleConnection(client: AuthenticatedWebSocket<User>): void {
    this.broadcast('joined', { name: client.user.name });
  }

  @SubscribeMessage('whoami')
  whoami(@WsUser() user: User) {
    return { event: 'whoami', data: user };
  }

  @SubscribeMessage('say')
  say(@WsUser() user: User, @MessageBody() text: unknown): void {
    if (typeof text === 'string' && text.trim() !== '') {
      this.broadcast('message', { from: user.name, text: text.slice(0, 500) });
    }
  }

  private broadcast(event: string, data: unknown): void {
    const frame = JSON.stringify({ event, data });
    for (const client of this.server.clients) {
      client.send(frame);
    }
  }
}
