import { expect, test } from '@jest/globals';
import type { IncomingMessage } from 'node:http';
import { selectProtocolWithoutToken } from './subprotocol.selector.js';

const request = {} as IncomingMessage;

test('selects the first offered protocol that is not a token entry', () => {
  const select = selectProtocolWithoutToken();
  expect(select(new Set(['bearer.secret', 'chat', 'v2']), request)).toBe('chat');
  expect(select(new Set(['chat', 'bearer.secret']), request)).toBe('chat');
});

test('selects none rather than echo a token', () => {
  expect(selectProtocolWithoutToken()(new Set(['bearer.secret']), request)).toBe(false);
});

test("hands the gateway's own handleProtocols the offer without token entries", () => {
  const seen: string[][] = [];
  const select = selectProtocolWithoutToken((protocols) => {
    seen.push([...protocols]);
    return protocols.has('v2') ? 'v2' : false;
  });
  expect(select(new Set(['chat', 'bearer.secret', 'v2']), request)).toBe('v2');
  expect(seen).toEqual([['chat', 'v2']]);
});
