import {
  Controller,
  type DynamicModule,
  HttpCode,
  type INestApplication,
  Injectable,
  Module,
  Post,
  Req,
  UnauthorizedException,
} from '@nestjs/common';
import { PassportSerializer } from '@nestjs/passport';
import { SubscribeMessage } from '@nestjs/websockets';
import session, { type Store } from 'express-session';
import passport from 'passport';
import { WsAuthConnections, WsAuthGateway, WsAuthModule, WsUser } from '../../src/index.js';
import { jwtOptions } from '../helpers/tokens.js';

export interface Account {
  id: string;
  name: string;
}

/** The app's user store; tests delete users from it. */
export const accounts = new Map<string, Account>();
export function resetAccounts(): void {
  accounts.clear();
  for (const account of [
    { id: 'alice', name: 'Alice' },
    { id: 'bob', name: 'Bob' },
  ]) {
    accounts.set(account.id, account);
  }
}

@Injectable()
export class SessionSerializer extends PassportSerializer {
  serializeUser(user: Account, done: (error: unknown, id?: string) => void): void {
    done(null, user.id);
  }

  deserializeUser(id: string, done: (error: unknown, user?: Account | null) => void): void {
    done(null, accounts.get(id) ?? null);
  }
}

type SessionRequest = Express.Request & { session: { visited?: boolean }; user?: Account };

/** The web app's login and logout, as any passport-session app has them. */
@Controller()
export class AccountController {
  constructor(private readonly connections: WsAuthConnections) {}

  @Post('login')
  @HttpCode(204)
  async login(@Req() request: SessionRequest & { body: { id?: string } }): Promise<void> {
    const account = accounts.get(request.body.id ?? '');
    if (!account) throw new UnauthorizedException();
    await new Promise<void>((resolve, reject) => request.login(account, (error) => (error ? reject(error) : resolve())));
  }

  /** Logging out of the web app closes that user's sockets. */
  @Post('logout')
  @HttpCode(204)
  async logout(@Req() request: SessionRequest): Promise<void> {
    const id = request.user?.id;
    await new Promise<void>((resolve, reject) => request.logout((error) => (error ? reject(error) : resolve())));
    if (id) this.connections.disconnectUser(id, { reason: 'logged out' });
  }

  /** A session that exists, with nobody logged in. */
  @Post('visit')
  @HttpCode(204)
  visit(@Req() request: SessionRequest): void {
    request.session.visited = true;
  }
}

@WsAuthGateway({ path: '/chat' })
export class SessionChatGateway {
  @SubscribeMessage('whoami')
  whoami(@WsUser() user: Account) {
    return { event: 'whoami', data: user };
  }
}

/** The same gateway on Socket.IO. */
@WsAuthGateway({ namespace: '/chat' })
export class SessionIoChatGateway extends SessionChatGateway {}

export const ALLOWED_ORIGIN = 'https://app.example.com';

@Module({})
export class SessionAppModule {
  /** The app with express-session on `store` (the memory store when undefined), its gateway on ws or Socket.IO. */
  static with(
    store: Store | undefined,
    transport: 'ws' | 'socket.io' = 'ws',
  ): { module: DynamicModule; configure: (app: INestApplication) => void } {
    const sessionMiddleware = session({
      secret: 'test-session-secret',
      resave: false,
      saveUninitialized: false,
      cookie: { httpOnly: true, sameSite: 'lax' },
      ...(store && { store }),
    });
    return {
      module: {
        module: SessionAppModule,
        imports: [
          WsAuthModule.forRoot({
            strategies: ['session', 'jwt'],
            session: sessionMiddleware,
            jwt: { ...jwtOptions, cookie: 'access_token' },
            resolveUser: (claims) => accounts.get(claims.sub ?? '') ?? null,
            allowedOrigins: [ALLOWED_ORIGIN],
          }),
        ],
        controllers: [AccountController],
        providers: [transport === 'ws' ? SessionChatGateway : SessionIoChatGateway, SessionSerializer],
      },
      configure: (app) => {
        app.use(sessionMiddleware);
        app.use(passport.session());
      },
    };
  }
}
