import { describe, expect, test } from '@jest/globals';
import type { ExecutionContext } from '@nestjs/common';
import { markAccepted } from '../core/accepted-clients.js';
import { markClosed } from '../core/closed-clients.js';
import { isWsAuthClient, wsAuthUserId } from './ws-auth-client.js';

const context = (type: string, client: unknown) =>
  ({ getType: () => type, switchToWs: () => ({ getClient: () => client }) }) as unknown as ExecutionContext;

describe('isWsAuthClient / wsAuthUserId', () => {
  test('a client the library accepted: its user id; anonymous: accepted, no id', () => {
    const alice = {};
    const anonymous = {};
    markAccepted(alice, 'alice');
    markAccepted(anonymous, null);
    expect([isWsAuthClient(context('ws', alice)), wsAuthUserId(context('ws', alice))]).toEqual([true, 'alice']);
    expect([isWsAuthClient(context('ws', anonymous)), wsAuthUserId(context('ws', anonymous))]).toEqual([true, undefined]);
  });

  test('a client of a plain gateway, an HTTP request, or a client the library closed: not one of ours', () => {
    const closed = {};
    markAccepted(closed, 'bob');
    markClosed(closed);
    expect(isWsAuthClient(context('ws', {}))).toBe(false);
    expect(isWsAuthClient(context('http', {}))).toBe(false);
    expect([isWsAuthClient(context('ws', closed)), wsAuthUserId(context('ws', closed))]).toEqual([false, undefined]);
    expect(wsAuthUserId(context('http', { ip: '127.0.0.1' }))).toBeUndefined();
  });
});
