/**
 * Lua scripts of the cluster link: each runs atomically in Redis, with Redis's
 * own clock (TIME), so that nodes whose clocks differ agree on lease expiry.
 */

/** KEYS[1] leases of a user; ARGV ttl ms, members...: extends the leases a live node holds (and puts back lost ones). */
export const REFRESH_LEASES = `
local t = redis.call('TIME')
local expiry = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[1])
for i = 2, #ARGV do
  redis.call('ZADD', KEYS[1], expiry, ARGV[i])
end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]))
return #ARGV - 1`;

/**
 * KEYS[1] a user's revocation; ARGV before, until (0: none), expiresAt (unix ms), reason.
 * Merges with what is stored (the later of each wins), expiring with the entry.
 */
export const MERGE_USER_REVOCATION = `
local before, untilMs, expiresAt = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local stored = redis.call('GET', KEYS[1])
if stored then
  local known = cjson.decode(stored)
  before = math.max(before, known.revocation.before)
  untilMs = math.max(untilMs, known.revocation['until'] or 0)
  expiresAt = math.max(expiresAt, known.revocation.expiresAt)
end
local revocation = { before = before, expiresAt = expiresAt }
if untilMs > 0 then revocation['until'] = untilMs end
redis.call('SET', KEYS[1], cjson.encode({ revocation = revocation, reason = ARGV[4] }), 'PXAT', expiresAt)
return 1`;

/** KEYS[1] a revoked token; ARGV until (unix ms): kept until the later of the stored and the new expiry. */
export const REVOKE_TOKEN = `
local untilMs = tonumber(ARGV[1])
local stored = tonumber(redis.call('GET', KEYS[1]) or '0')
if stored > untilMs then untilMs = stored end
redis.call('SET', KEYS[1], untilMs, 'PXAT', untilMs)
return 1`;

/**
 * The places asked for in one turn of the event loop, in one round trip. KEYS the
 * users' lease keys (a key may repeat); ARGV ttl ms, then a limit and a member per key.
 * Returns 1 or 0 per key, in order. Judged one after the other, as RESERVE_LEASE would.
 */
export const RESERVE_LEASES = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[1])
local granted = {}
for i = 1, #KEYS do
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now)
  if redis.call('ZCARD', KEYS[i]) < tonumber(ARGV[2 * i]) then
    redis.call('ZADD', KEYS[i], now + ttl, ARGV[2 * i + 1])
    redis.call('PEXPIRE', KEYS[i], ttl)
    granted[i] = 1
  else
    granted[i] = 0
  end
end
return granted`;

/** The places given back in one turn of the event loop. KEYS the users' lease keys; ARGV one member per key. */
export const RELEASE_LEASES = `
for i = 1, #KEYS do
  redis.call('ZREM', KEYS[i], ARGV[i])
end
return #KEYS`;
