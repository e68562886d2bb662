import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { EventEmitter2, EventEmitterModule, OnEvent } from '@nestjs/event-emitter';
import { Registry } from 'prom-client';
import { WsAuthConnections, WsAuthEvents, type WsAuthEventName } from 'nest-ws-auth';
import { WsAuthTesting } from 'nest-ws-auth/testing';
import { ChatAppModule, type Transport } from './apps/chat.app.js';

const TRANSPORTS: Transport[] = ['ws', 'socket.io'];
const NAMES: WsAuthEventName[] = ['ws-auth.connected', 'ws-auth.refused', 'ws-auth.expired', 'ws-auth.revoked', 'ws-auth.refreshed'];
const gatewayOf = (transport: Transport, name: 'Chat' | 'Admin') => (transport === 'ws' ? `${name}Gateway` : `Io${name}Gateway`);

/**
 * The same traffic for every test: alice connects and refreshes, bob is refused
 * (403 at /admin), a forged token is refused (401), carol connects and is
 * disconnected, then alice's token expires. Returns every token that was sent.
 */
async function traffic(kit: WsAuthTesting): Promise<string[]> {
  const alice = await kit.connectAs({ id: 'alice' }, '/chat');
  await kit.clock.advance(10_000);
  const refreshed = await kit.tokenFor({ id: 'alice' });
  expect(await alice.refresh(refreshed)).toMatchObject({ ok: true });
  await kit.expectRefused('/admin', { as: { id: 'bob' } }, 403);
  const forged = `${(await kit.tokenFor({ id: 'mallory' })).slice(0, -4)}AAAA`;
  await kit.expectRefused('/chat', { token: forged }, 401);
  const carol = await kit.connectAs({ id: 'carol', roles: ['admin'] }, '/admin');
  expect(kit.app.get(WsAuthConnections).disconnectUser('carol')).toBe(1);
  await carol.expectClose(4403, 'revoked');
  await kit.clock.advance(60_000);
  await alice.expectClose(4401, 'token expired');
  return [alice.plan.token!, refreshed, forged, carol.plan.token!];
}

/** Every piece of a credential that must never be in an event: the tokens, their parts, the header scheme. */
function credentialPieces(tokens: string[]): string[] {
  return tokens.flatMap((token) => [token, ...token.split('.').slice(1)]).concat(['Bearer', 'bearer.']);
}

describe.each(TRANSPORTS)('events on %s', (transport) => {
  @Injectable()
  class AuditLog {
    readonly seen: Array<[string, unknown]> = [];
    @OnEvent('ws-auth.refused')
    refused(event: unknown) {
      this.seen.push(['ws-auth.refused', event]);
    }
    @OnEvent('ws-auth.expired')
    expired(event: unknown) {
      this.seen.push(['ws-auth.expired', event]);
    }
  }

  let kit: WsAuthTesting;
  beforeAll(async () => {
    const module = ChatAppModule.on(transport, { events: true }, [EventEmitterModule.forRoot()]);
    kit = await WsAuthTesting.start({ ...module, providers: [...module.providers!, AuditLog] }, { transport });
  });
  afterAll(() => kit.close());

  test('each outcome fires once, through WsAuthEvents and @nestjs/event-emitter, without any credential', async () => {
    const events: Array<[string, unknown]> = [];
    const stops = NAMES.map((name) => kit.app.get(WsAuthEvents).on(name, (event) => events.push([name, event])));
    const start = Math.floor(kit.clock.now() / 1000);
    const tokens = await traffic(kit);
    stops.forEach((stop) => stop());
    const chat = gatewayOf(transport, 'Chat');
    const admin = gatewayOf(transport, 'Admin');
    expect(events).toEqual([
      ['ws-auth.connected', { gateway: chat, userId: 'alice', transport }],
      ['ws-auth.refreshed', { gateway: chat, userId: 'alice', transport, exp: start + 10 + 60 }],
      ['ws-auth.refused', { gateway: admin, status: 403, reason: 'Insufficient role', address: '127.0.0.1', transport }],
      ['ws-auth.refused', { gateway: chat, status: 401, reason: 'Invalid token', address: '127.0.0.1', transport }],
      ['ws-auth.connected', { gateway: admin, userId: 'carol', transport }],
      ['ws-auth.revoked', { gateway: admin, userId: 'carol', transport, code: 4403, reason: 'revoked' }],
      ['ws-auth.expired', { gateway: chat, userId: 'alice', transport }],
    ]);
    const auditLog = kit.app.get(AuditLog);
    expect(auditLog.seen).toEqual(events.filter(([name]) => name === 'ws-auth.refused' || name === 'ws-auth.expired'));
    const written = JSON.stringify(events);
    for (const piece of credentialPieces(tokens)) {
      expect(written).not.toContain(piece);
    }
  });

  test('nobody listening: no event is built or emitted', async () => {
    const events = kit.app.get(WsAuthEvents) as WsAuthEvents & { emit(name: string, event: unknown): void };
    const emitter = kit.app.get(EventEmitter2);
    const emitted = jest.spyOn(events, 'emit');
    const emitterEmitted = jest.spyOn(emitter, 'emit');
    const auditLog = kit.app.get(AuditLog);
    const removed = [emitter.listeners('ws-auth.refused'), emitter.listeners('ws-auth.expired')] as Array<Array<(...args: unknown[]) => void>>;
    emitter.removeAllListeners('ws-auth.refused');
    emitter.removeAllListeners('ws-auth.expired');
    try {
      const seen = auditLog.seen.length;
      await traffic(kit);
      expect(emitted).not.toHaveBeenCalled();
      expect(emitterEmitted).not.toHaveBeenCalled();
      expect(auditLog.seen.length).toBe(seen);
      // The control: one listener, and only its event is emitted.
      const stop = events.on('ws-auth.revoked', () => {});
      await traffic(kit);
      stop();
      expect(emitted.mock.calls.map(([name]) => name)).toEqual(['ws-auth.revoked']);
    } finally {
      emitted.mockRestore();
      emitterEmitted.mockRestore();
      removed[0]!.forEach((listener) => emitter.on('ws-auth.refused', listener));
      removed[1]!.forEach((listener) => emitter.on('ws-auth.expired', listener));
    }
  });
});

test('WsAuthEvents.on without events: true says how to turn them on', async () => {
  const kit = await WsAuthTesting.start(ChatAppModule.on('ws'));
  try {
    expect(() => kit.app.get(WsAuthEvents).on('ws-auth.connected', () => {})).toThrow(/events: true/);
  } finally {
    await kit.close();
  }
});

describe.each(TRANSPORTS)('metrics on %s', (transport) => {
  const registry = new Registry();
  let kit: WsAuthTesting;
  beforeAll(async () => {
    kit = await WsAuthTesting.start(ChatAppModule.on(transport, { metrics: { registry } }), { transport });
  });
  afterAll(() => kit.close());

  const sample = async (name: string) =>
    (await registry.getMetricsAsJSON())
      .find((metric) => metric.name === name)!
      .values.filter((value) => !('le' in value.labels))
      .map(({ labels, value, ...rest }) => {
        const { metricName } = rest as { metricName?: string };
        return { ...(metricName && { metricName }), labels, value };
      });

  test('exact counts after known traffic', async () => {
    await traffic(kit);
    const dave = await kit.connectAs({ id: 'dave' }, '/chat');
    await kit.connectAs({ id: 'erin' }, '/chat');
    await dave.close();
    await new Promise((resolve) => setTimeout(resolve, 50)); // the server sees dave's close
    const chat = gatewayOf(transport, 'Chat');
    const admin = gatewayOf(transport, 'Admin');
    expect(await sample('ws_auth_handshakes_total')).toEqual([
      { labels: { gateway: chat, outcome: 'accepted' }, value: 3 },
      { labels: { gateway: admin, outcome: 'forbidden' }, value: 1 },
      { labels: { gateway: chat, outcome: 'unauthorized' }, value: 1 },
      { labels: { gateway: admin, outcome: 'accepted' }, value: 1 },
    ]);
    expect(await sample('ws_auth_connections')).toEqual([
      { labels: { gateway: chat, transport }, value: 1 },
      { labels: { gateway: admin, transport }, value: 0 },
    ]);
    expect(await sample('ws_auth_closes_total')).toEqual([
      { labels: { gateway: admin, reason: 'revoked' }, value: 1 },
      { labels: { gateway: chat, reason: 'expired' }, value: 1 },
      { labels: { gateway: chat, reason: 'client' }, value: 1 },
    ]);
    expect(await sample('ws_auth_refreshes_total')).toEqual([{ labels: { gateway: chat }, value: 1 }]);
    const latency = await sample('ws_auth_authentication_duration_seconds');
    expect(latency.filter(({ metricName }) => metricName === 'ws_auth_authentication_duration_seconds_count')).toEqual([
      { metricName: 'ws_auth_authentication_duration_seconds_count', labels: { gateway: chat }, value: 4 },
      { metricName: 'ws_auth_authentication_duration_seconds_count', labels: { gateway: admin }, value: 2 },
    ]);
    // The exposition format, as Prometheus scrapes it.
    expect(await registry.metrics()).toContain(`ws_auth_handshakes_total{gateway="${chat}",outcome="accepted"} 3`);
  });
});
