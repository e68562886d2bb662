import {
  MessageBody,
  type OnGatewayConnection,
  type OnGatewayDisconnect,
  SubscribeMessage,
  WebSocketServer,
} from '@nestjs/websockets';
import { type AuthenticatedWebSocket, WsAuthConnections, WsAuthGateway, WsRoles, WsUser } from 'nest-ws-auth';
import type { WebSocketServer as Server } from 'ws';
import type { User } from './users.service.js';

/**
 * Only authenticated users ever get here (session cookie or token, see
 * app.module.ts): `client.user` is set before handleConnection runs.
 */
@WsAuthGateway({ path: '/chat' })
export class ChatGateway implements OnGatewayConnection, OnGatewayDisconnect {
  @WebSocketServer()
  private readonly server!: Server;

  constructor(private readonly connections: WsAuthConnections) {}

  handleConnection(client: AuthenticatedWebSocket<User>): void {
    this.broadcast('joined', { name: client.user.name });
    this.broadcast('online', this.online());
  }

  handleDisconnect(): void {
    this.broadcast('online', this.online());
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

  /** Admins only: closes every connection of a user, wherever it is. */
  @SubscribeMessage('revoke')
  @WsRoles('admin')
  revoke(@WsUser() admin: User, @MessageBody() id: unknown) {
    const closed = typeof id === 'string' ? this.connections.disconnectUser(id, { reason: `revoked by ${admin.name}` }) : 0;
    return { event: 'revoked', data: { id, closed } };
  }

  private online(): Array<Pick<User, 'id' | 'name'>> {
    const users = new Map<string, string>();
    for (const client of this.server.clients as Set<AuthenticatedWebSocket<User>>) {
      if (client.readyState === client.OPEN) users.set(client.user.id, client.user.name);
    }
    return [...users].map(([id, name]) => ({ id, name }));
  }

  private broadcast(event: string, data: unknown): void {
    const frame = JSON.stringify({ event, data });
    for (const client of this.server.clients) {
      if (client.readyState === client.OPEN) client.send(frame);
    }
  }
}
