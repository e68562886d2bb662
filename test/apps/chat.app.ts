import { Controller, type DynamicModule, Get, Injectable, Module, Req, UseGuards } from '@nestjs/common';
import { AuthGuard, PassportStrategy } from '@nestjs/passport';
import {
  ConnectedSocket,
  type OnGatewayConnection,
  SubscribeMessage,
  WebSocketGateway,
} from '@nestjs/websockets';
import type { IncomingMessage } from 'node:http';
import { HeaderAPIKeyStrategy } from 'passport-headerapikey';
import type { WebSocket } from 'ws';
import {
  type AuthenticatedWebSocket,
  WsAuthGateway,
  WsAuthModule,
  type WsAuthModuleOptions,
  WsUser,
} from '../../src/index.js';
import { jwtOptions } from '../helpers/tokens.js';

export interface TestUser {
  id: string;
  name: string;
  roles: string[];
}

export const USERS: Readonly<Record<string, TestUser>> = {
  alice: { id: 'alice', name: 'Alice', roles: ['admin'] },
  bob: { id: 'bob', name: 'Bob', roles: [] },
};

export const API_KEYS: Readonly<Record<string, string>> = { 'key-of-bob': 'bob' };

/** An app's ordinary HTTP strategy, registered the @nestjs/passport way. */
@Injectable()
export class ApiKeyStrategy extends PassportStrategy(HeaderAPIKeyStrategy, 'api-key') {
  constructor() {
    super({ header: 'x-api-key', prefix: '' }, false);
  }

  validate(apiKey: string): TestUser | null {
    const id = API_KEYS[apiKey];
    return id ? USERS[id]! : null;
  }
}

@Controller('me')
export class MeController {
  @Get()
  @UseGuards(AuthGuard('api-key'))
  me(@Req() request: { user: TestUser }): TestUser {
    return request.user;
  }
}

/** Records what handleConnection saw, to prove who reached the gateway. */
abstract class RecordingGateway implements OnGatewayConnection {
  readonly connections: Array<{ user: unknown; path: string | undefined }> = [];

  handleConnection(client: AuthenticatedWebSocket<TestUser | null>, request: IncomingMessage): void {
    this.connections.push({ user: client.user, path: request.url });
  }

  @SubscribeMessage('whoami')
  whoami(@WsUser() user: TestUser | null) {
    return { event: 'whoami', data: user };
  }

  @SubscribeMessage('name')
  name(@WsUser('name') name: string | undefined) {
    return { event: 'name', data: name ?? null };
  }
}

@WsAuthGateway({ path: '/chat' })
export class ChatGateway extends RecordingGateway {}

@WsAuthGateway({ path: '/lobby', auth: { optional: true } })
export class LobbyGateway extends RecordingGateway {}

@WsAuthGateway({ path: '/keys', auth: { strategies: ['api-key'] } })
export class KeysGateway extends RecordingGateway {}

@WebSocketGateway({ path: '/plain' })
export class PlainGateway implements OnGatewayConnection {
  connections = 0;

  handleConnection(): void {
    this.connections += 1;
  }

  @SubscribeMessage('whoami')
  whoami(@ConnectedSocket() client: WebSocket & { user?: unknown }) {
    return { event: 'whoami', data: client.user ?? 'nobody' };
  }
}

@Module({})
export class ChatAppModule {
  /** The chat app with the test JWT settings, plus `options`. */
  static with(options: Partial<WsAuthModuleOptions<TestUser>> = {}): DynamicModule {
    return {
      module: ChatAppModule,
      imports: [
        WsAuthModule.forRoot({
          jwt: jwtOptions,
          resolveUser: (claims) => USERS[claims.sub ?? ''] ?? null,
          ...options,
        }),
      ],
      controllers: [MeController],
      providers: [ChatGateway, LobbyGateway, KeysGateway, PlainGateway, ApiKeyStrategy],
    };
  }
}
