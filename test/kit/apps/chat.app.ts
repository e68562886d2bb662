import { randomBytes } from 'node:crypto';
import { type DynamicModule, Injectable, Module } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { PassportSerializer } from '@nestjs/passport';
import { SubscribeMessage } from '@nestjs/websockets';
import { HeaderAPIKeyStrategy } from 'passport-headerapikey';
import { WsAuthGateway, WsAuthModule, type WsAuthModuleOptions, WsUser } from 'nest-ws-auth';

/**
 * An app as an app would write it, importing nest-ws-auth by name. Its secret is
 * its own, made at start-up: tests never see it (the kit signs through the app's DI).
 */
const SECRET = randomBytes(32).toString('base64url');
export const jwtOptions = { secret: SECRET, algorithms: ['HS256' as const], issuer: 'chat-app', audience: 'chat-app' };

export interface ChatUser {
  id: string;
  roles?: string[];
}

class ChatHandlers {
  @SubscribeMessage('whoami')
  whoami(@WsUser() user: ChatUser) {
    return { event: 'whoami', data: user };
  }
}

@WsAuthGateway({ path: '/chat' })
export class ChatGateway extends ChatHandlers {}

@WsAuthGateway({ path: '/admin', auth: { roles: ['admin'] } })
export class AdminGateway extends ChatHandlers {}

@WsAuthGateway({ path: '/keys', auth: { strategies: ['api-key'] } })
export class KeysGateway extends ChatHandlers {}

@WsAuthGateway({ namespace: '/chat' })
export class IoChatGateway extends ChatHandlers {}

@WsAuthGateway({ namespace: '/admin', auth: { roles: ['admin'] } })
export class IoAdminGateway extends ChatHandlers {}

@WsAuthGateway({ namespace: '/keys', auth: { strategies: ['api-key'] } })
export class IoKeysGateway extends ChatHandlers {}

/** The app's own strategy: an API key header. */
@Injectable()
export class ApiKeyStrategy extends PassportStrategy(HeaderAPIKeyStrategy, 'api-key') {
  constructor() {
    super({ header: 'x-api-key', prefix: '' }, false);
  }
  validate(key: string): ChatUser | null {
    return key === 'robot-key' ? { id: 'robot', roles: ['bot'] } : null;
  }
}

/** Users of the session store: what passport keeps in a session is the id. */
export const accounts = new Map<string, ChatUser>([
  ['alice', { id: 'alice', roles: ['member'] }],
  ['carol', { id: 'carol', roles: ['admin'] }],
]);

@Injectable()
export class ChatSessionSerializer extends PassportSerializer {
  serializeUser(user: ChatUser, done: (error: unknown, id?: string) => void): void {
    done(null, user.id);
  }
  deserializeUser(id: string, done: (error: unknown, user?: ChatUser | null) => void): void {
    done(null, accounts.get(id) ?? null);
  }
}

export type Transport = 'ws' | 'socket.io';

@Module({})
export class ChatAppModule {
  /** The chat on `transport`, with more module options when a test needs them. */
  static on(transport: Transport, options: Partial<WsAuthModuleOptions> = {}, imports: DynamicModule[] = []): DynamicModule {
    return {
      module: ChatAppModule,
      imports: [WsAuthModule.forRoot({ jwt: jwtOptions, ...options }), ...imports],
      providers: [
        ...(transport === 'ws' ? [ChatGateway, AdminGateway, KeysGateway] : [IoChatGateway, IoAdminGateway, IoKeysGateway]),
        ApiKeyStrategy,
        ChatSessionSerializer,
      ],
    };
  }
}
