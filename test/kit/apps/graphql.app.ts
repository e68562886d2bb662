import { randomBytes } from 'node:crypto';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { Module } from '@nestjs/common';
import { GraphQLModule, Resolver, Subscription } from '@nestjs/graphql';
import { WsAuthGraphQL, WsAuthModule, WsRoles, WsUser } from 'nest-ws-auth/graphql';

/**
 * A GraphQL app as an app would write it (Apollo, schema first), importing nest-ws-auth/graphql by name, with
 * the set-up of the README's "GraphQL subscriptions" section.
 */
const jwt = { secret: randomBytes(32).toString('base64url'), algorithms: ['HS256' as const], issuer: 'feed-app', audience: 'feed-app' };

/** Every subscriber gets what is published after it subscribed. */
export class Feed {
  private readonly pushes = new Set<(value: number) => void>();

  get subscribers(): number {
    return this.pushes.size;
  }

  publish(value: number): void {
    for (const push of this.pushes) push(value);
  }

  iterator(): AsyncIterableIterator<{ ticks: number }> {
    const queue: number[] = [];
    let wake: (() => void) | undefined;
    let done = false;
    const push = (value: number) => {
      queue.push(value);
      wake?.();
    };
    this.pushes.add(push);
    const iterator: AsyncIterableIterator<{ ticks: number }> = {
      [Symbol.asyncIterator]: () => iterator,
      next: async () => {
        while (queue.length === 0 && !done) await new Promise<void>((resolve) => (wake = resolve));
        return queue.length > 0 ? { value: { ticks: queue.shift()! }, done: false } : { value: undefined, done: true };
      },
      return: async () => {
        done = true;
        this.pushes.delete(push);
        wake?.();
        return { value: undefined, done: true };
      },
    };
    return iterator;
  }
}

export const feed = new Feed();

@Resolver()
export class FeedResolver {
  @Subscription('ticks')
  ticks() {
    return feed.iterator();
  }

  @Subscription('whoami', { resolve: (_payload: unknown, _args: unknown, context: { req: { user: { sub: string } } }) => context.req.user.sub })
  whoami(@WsUser('sub') sub: string) {
    return (async function* () {
      yield sub;
    })();
  }

  @Subscription('admin')
  @WsRoles('admin')
  admin() {
    return feed.iterator();
  }
}

@Module({
  imports: [
    WsAuthModule.forRoot({ jwt }),
    GraphQLModule.forRootAsync<ApolloDriverConfig>({
      driver: ApolloDriver,
      inject: [WsAuthGraphQL],
      useFactory: (auth: WsAuthGraphQL) => ({
        typeDefs: 'type Query { ok: Boolean } type Subscription { ticks: Int whoami: String admin: Int }',
        subscriptions: { 'graphql-ws': auth.graphqlWs() },
        context: auth.context(),
      }),
    }),
  ],
  providers: [FeedResolver],
})
export class FeedAppModule {}
