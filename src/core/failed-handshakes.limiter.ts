import type { IncomingMessage } from 'node:http';
import { isIPv4, isIPv6 } from 'node:net';

/** `failedHandshakes`, validated. */
export interface FailedHandshakesSettings {
  readonly limit: number;
  readonly windowMs: number;
  readonly maxAddresses: number;
}

/** One address's refusals in its current window, and its handshakes still being judged. */
interface Entry {
  start: number;
  failures: number;
  /** Handshakes of the address whose verdict is still awaited (an async strategy): each may yet fail. */
  pending: number;
}

/**
 * Refused handshakes (401 and 403) per client address, in fixed windows that
 * start at an address's first refusal: after `limit` of them, the address is
 * answered 429 until its window ends, before any strategy runs. Handshakes
 * still being judged count as possible failures: at most `limit` strategy runs
 * are in flight or failed per address and window, so a burst of concurrent
 * guesses gets 429 past the limit instead of all running (they get
 * `Retry-After: 1` while only their in-flight siblings hold the address).
 * Memory is bounded: at most `maxAddresses` entries, the oldest window making
 * room (a flood from many addresses evicts old entries rather than growing the map).
 */
export class FailedHandshakesLimiter {
  /** Insertion order is window order: the first entry is the oldest window. */
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly settings: FailedHandshakesSettings,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until `address` may try again, or undefined if it may now. */
  retryAfter(address: string): number | undefined {
    const entry = this.entries.get(address);
    if (entry === undefined) {
      return undefined;
    }
    const left = entry.start + this.settings.windowMs - this.now();
    if (left <= 0 && entry.failures > 0) {
      entry.failures = 0;
    }
    if (entry.failures === 0 && entry.pending === 0) {
      this.entries.delete(address);
      return undefined;
    }
    if (entry.failures + entry.pending < this.settings.limit) {
      return undefined;
    }
    return entry.failures >= this.settings.limit ? Math.ceil(left / 1000) : 1;
  }

  /** A handshake from `address` is being judged asynchronously: it counts until `settled`. */
  begin(address: string): void {
    const entry = this.entries.get(address);
    if (entry !== undefined) {
      entry.pending += 1;
      return;
    }
    this.dropOldest(this.now());
    this.entries.set(address, { start: this.now(), failures: 0, pending: 1 });
  }

  /** The verdict on a handshake `begin` counted: `failed` if it was refused with 401 or 403. */
  settled(address: string, failed: boolean): void {
    const entry = this.entries.get(address);
    if (entry === undefined) {
      // Evicted meanwhile by a flood from other addresses.
      if (failed) this.recordFailure(address);
      return;
    }
    entry.pending = Math.max(0, entry.pending - 1);
    if (failed) {
      this.recordFailure(address);
    } else if (entry.failures === 0 && entry.pending === 0) {
      this.entries.delete(address);
    }
  }

  /** A handshake from `address` was refused with 401 or 403. */
  recordFailure(address: string): void {
    const now = this.now();
    const entry = this.entries.get(address);
    if (entry !== undefined) {
      if (entry.failures === 0 || now - entry.start >= this.settings.windowMs) {
        // The window starts at the first refusal (an entry may exist for in-flight handshakes only).
        entry.start = now;
        entry.failures = 0;
      }
      entry.failures += 1;
      return;
    }
    this.dropOldest(now);
    this.entries.set(address, { start: now, failures: 1, pending: 0 });
  }

  get size(): number {
    return this.entries.size;
  }

  /** Ended windows first, then the oldest running one if the map is full. */
  private dropOldest(now: number): void {
    for (const [address, entry] of this.entries) {
      const ended = entry.pending === 0 && now - entry.start >= this.settings.windowMs;
      if (!ended && this.entries.size < this.settings.maxAddresses) {
        return;
      }
      this.entries.delete(address);
    }
  }
}

/**
 * The address a handshake is counted under. With `trustProxy` (the number of
 * proxies in front of the app; `true` is one), the entry of `X-Forwarded-For`
 * that the outermost trusted proxy appended: the rightmost entry with one
 * proxy. Entries left of it are whatever the client wrote, so a limit keyed on
 * them could be dodged by writing another address each time. IPv4-mapped IPv6
 * addresses count as IPv4; IPv6 addresses count by their /64 prefix (what one
 * subscriber usually gets).
 */
export function clientAddress(request: IncomingMessage, socketAddress: string | undefined, trustedProxies: number): string {
  return addressKey(peerAddress(request, socketAddress, trustedProxies));
}

/** The client's address as `clientAddress` picks it, before it is made a key (what Express calls `req.ip`). */
export function peerAddress(request: IncomingMessage, socketAddress: string | undefined, trustedProxies: number): string {
  let address = socketAddress ?? request.socket?.remoteAddress ?? '';
  const forwarded = trustedProxies > 0 ? request.headers['x-forwarded-for'] : undefined;
  if (forwarded !== undefined) {
    const hops = String(forwarded)
      .split(',')
      .map((hop) => hop.trim())
      .filter((hop) => hop !== '');
    const hop = hops[Math.max(0, hops.length - trustedProxies)];
    if (hop !== undefined && (isIPv4(hop) || isIPv6(hop))) {
      address = hop;
    }
  }
  return address;
}

function addressKey(address: string): string {
  const lower = address.toLowerCase();
  if (lower.startsWith('::ffff:') && isIPv4(lower.slice(7))) {
    return lower.slice(7);
  }
  if (!isIPv6(lower)) {
    return lower;
  }
  return `${expandIPv6(lower).slice(0, 4).join(':')}::/64`;
}

/** The eight groups of an IPv6 address, `::` expanded (a zone id or embedded IPv4 tail is kept as it is). */
function expandIPv6(address: string): string[] {
  const [head = '', tail] = address.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const missing = Math.max(0, 8 - left.length - right.length);
  return [...left, ...Array.from({ length: tail === undefined ? 0 : missing }, () => '0'), ...right].map((group) =>
    group.replace(/^0+(?=.)/, ''),
  );
}
