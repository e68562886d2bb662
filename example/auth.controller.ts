import { Body, Controller, Get, Headers, HttpCode, Post, Redirect, Req, UnauthorizedException } from '@nestjs/common';
import { WsAuthConnections } from 'nest-ws-auth';
import { type IssuedToken, TokensService } from './tokens.service.js';
import { type User, UsersService } from './users.service.js';

interface Credentials {
  id?: string;
  password?: string;
}

type SessionRequest = Express.Request & { user?: User };

@Controller()
export class AuthController {
  constructor(
    private readonly users: UsersService,
    private readonly tokens: TokensService,
    private readonly connections: WsAuthConnections,
  ) {}

  /** The login form: starts a passport session (its cookie authenticates the chat's WebSocket). */
  @Post('login')
  @Redirect('/chat.html')
  async login(@Req() request: SessionRequest, @Body() { id = '', password = '' }: Credentials): Promise<{ url: string }> {
    const user = this.users.verify(id, password);
    if (!user) {
      return { url: '/?error=login' };
    }
    await new Promise<void>((resolve, reject) => request.login(user, (error) => (error ? reject(error) : resolve())));
    return { url: '/chat.html' };
  }

  /** Logging out of the web app closes the user's chat connections, everywhere. */
  @Post('logout')
  @HttpCode(204)
  async logout(@Req() request: SessionRequest): Promise<void> {
    const user = request.user;
    await new Promise<void>((resolve, reject) => request.logout((error) => (error ? reject(error) : resolve())));
    if (user) {
      this.connections.disconnectUser(user.id, { reason: 'logged out' });
    }
  }

  /** Who the session belongs to: the chat page asks when its WebSocket was refused. */
  @Get('api/me')
  me(@Req() request: SessionRequest): User {
    if (!request.user) {
      throw new UnauthorizedException('not logged in');
    }
    return request.user;
  }

  /** The token client's login: a short-lived token, sent in Sec-WebSocket-Protocol. */
  @Post('api/token')
  token(@Body() { id = '', password = '' }: Credentials): IssuedToken {
    const user = this.users.verify(id, password);
    if (!user) {
      throw new UnauthorizedException('wrong user or password');
    }
    return this.tokens.issue(user);
  }

  /** A fresh token for the holder of a valid one; the page hands it to the socket as auth:refresh. */
  @Post('api/token/refresh')
  refresh(@Headers('authorization') authorization = ''): IssuedToken {
    const user = this.users.findById(this.tokens.subjectOf(authorization.replace(/^Bearer /i, '')));
    if (!user) {
      throw new UnauthorizedException('token invalid or expired');
    }
    return this.tokens.issue(user);
  }
}
