import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { WsAuthTesting } from 'nest-ws-auth/testing';
import { AppModule } from './apps/graphql-readme.app.js';

describe('FeedResolver (e2e)', () => {
  let kit: WsAuthTesting;

  beforeAll(async () => {
    kit = await WsAuthTesting.start(AppModule);
  });

  afterAll(async () => {
    await kit.close();
  });

  it('streams to alice until her token expires, and refuses a client without credentials', async () => {
    const alice = await kit.connectAs({ id: 'alice' }, '/graphql');
    await alice.subscribe('subscription { whoami }').expectNext({ whoami: 'alice' });
    await kit.expectRefused('/graphql', {}, 4403);
    await kit.clock.advance(60_000);
    await alice.expectClose(4401, 'token expired');
  });

  it('@WsRoles on a code-first @Subscription', async () => {
    const bob = await kit.connectAs({ id: 'bob' }, '/graphql');
    await bob.subscribe('subscription { audit }').expectError('Forbidden resource');
    const carol = await kit.connectAs({ id: 'carol', roles: ['admin'] }, '/graphql');
    expect(await carol.subscribe('subscription { audit }').expectNext()).toEqual({ audit: 'watched by carol' });
  });
});
