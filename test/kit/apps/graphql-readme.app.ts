import { randomBytes } from 'node:crypto';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { Module } from '@nestjs/common';
import { GraphQLModule, Query, Resolver, Subscription } from '@nestjs/graphql';
import { WsAuthGraphQL, WsAuthModule, WsRoles, WsUser } from 'nest-ws-auth/graphql';

/** The README's "GraphQL subscriptions" files (code first, autoSchemaFile), importing nest-ws-auth by name. */
const jwt = { secret: randomBytes(32).toString('base64url'), algorithms: ['HS256' as const], issuer: 'my-app', audience: 'my-app' };

@Resolver()
export class FeedResolver {
  @Query(() => String)
  hello(): string {
    return 'hello';
  }

  @Subscription(() => String)
  async *whoami(@WsUser('sub') sub: string) {
    yield { whoami: sub }; // the connection's user: context.req.user
  }

  @Subscription(() => String)
  @WsRoles('admin') // others get the error 'Forbidden resource'; the connection stays
  async *audit(@WsUser('sub') sub: string) {
    yield { audit: `watched by ${sub}` };
  }
}

@Module({
  imports: [
    WsAuthModule.forRoot({ jwt }),
    GraphQLModule.forRootAsync<ApolloDriverConfig>({
      driver: ApolloDriver,
      inject: [WsAuthGraphQL],
      useFactory: (auth: WsAuthGraphQL) => ({
        autoSchemaFile: true,
        subscriptions: { 'graphql-ws': auth.graphqlWs() },
        context: auth.context(),
      }),
    }),
  ],
  providers: [FeedResolver],
})
export class AppModule {}
