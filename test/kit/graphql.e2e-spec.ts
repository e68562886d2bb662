import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { AssertionError } from 'node:assert';
import { WsAuthConnections } from 'nest-ws-auth/graphql';
import { WsAuthTesting } from 'nest-ws-auth/testing';
import { feed, FeedAppModule } from './apps/graphql.app.js';

const until = async (condition: () => boolean) => {
  for (let waited = 0; !condition(); waited += 10) {
    if (waited > 2000) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

describe('the kit on graphql-ws (GraphQL subscriptions of @nestjs/graphql)', () => {
  let kit: WsAuthTesting;
  beforeAll(async () => {
    kit = await WsAuthTesting.start(FeedAppModule); // no gateway, WsAuthGraphQL in use: graphql-ws
  });
  afterAll(() => kit.close());

  test('the transport is read from the app: graphql-ws, on ws:// URLs', () => {
    expect(kit.transport).toBe('graphql-ws');
    expect(kit.url('/graphql')).toBe(`ws://127.0.0.1:${kit.port}/graphql`);
  });

  test('connectAs (connectionParams by default, or the upgrade header), subscribe, expectNext', async () => {
    const alice = await kit.connectAs({ id: 'alice' }, '/graphql');
    await alice.subscribe('subscription { whoami }').expectNext({ whoami: 'alice' });
    const bob = await kit.connectAs({ id: 'bob' }, '/graphql', { via: 'header' });
    await bob.subscribe('subscription { whoami }').expectNext({ whoami: 'bob' });
    await expect(bob.subscribe('subscription { whoami }').expectNext({ whoami: 'alice' })).rejects.toThrow(AssertionError);
  });

  test('expectRefused: the close code and reason', async () => {
    expect(await kit.expectRefused('/graphql', {}, 4403)).toEqual({ status: 4403, message: 'Authentication required' });
    await expect(kit.expectRefused('/graphql', {}, 4429)).rejects.toThrow(/refused with 4429, got 4403 Authentication required/);
  });

  test('expectError: a @WsRoles refusal on a @Subscription; the connection stays', async () => {
    const bob = await kit.connectAs({ id: 'bob', roles: [] }, '/graphql');
    await bob.subscribe('subscription { admin }').expectError('Forbidden resource');
    expect(bob.isOpen).toBe(true);
  });

  test('expiry on the kit clock: results until exp, then 4401 and no result after it', async () => {
    const alice = await kit.connectAs({ id: 'alice' }, '/graphql');
    const ticks = alice.subscribe('subscription { ticks }');
    await until(() => feed.subscribers === 1);
    feed.publish(1);
    await ticks.expectNext({ ticks: 1 });
    await kit.clock.advance(59_999);
    feed.publish(2);
    await ticks.expectNext({ ticks: 2 });
    await kit.clock.advance(1);
    await alice.expectClose(4401, 'token expired');
    expect(await ticks.expectError()).toEqual({ code: 4401, reason: 'token expired' });
    feed.publish(3);
    await ticks.expectNothing(50);
    await until(() => feed.subscribers === 0);
  });

  test('disconnectUser closes the connection 4403; the operation ends with the close', async () => {
    const carol = await kit.connectAs({ id: 'carol' }, '/graphql');
    const ticks = carol.subscribe('subscription { ticks }');
    await until(() => feed.subscribers === 1);
    expect(kit.app.get(WsAuthConnections).disconnectUser('carol')).toBe(1);
    await carol.expectClose(4403, 'revoked');
    expect(await ticks.expectError()).toEqual({ code: 4403, reason: 'revoked' });
  });

  test('expectComplete, and a closed client', async () => {
    const dave = await kit.connectAs({ id: 'dave' }, '/graphql');
    const whoami = dave.subscribe('subscription { whoami }');
    await whoami.expectNext({ whoami: 'dave' });
    await whoami.expectComplete();
    await dave.close();
    expect(dave.isOpen).toBe(false);
  });
});
