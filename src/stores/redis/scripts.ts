/**
 * The Lua scripts of the Redis stores. Each runs atomically on the server (Redis executes one
 * script at a time), which is what makes `consume`, `revokeFamily`, overwrites and `touch` safe
 * under concurrency. Times come from the caller's clock (ARGV), never from the server's.
 *
 * Records are hashes: `v` the JSON value, `c` the consume count, `e` the expiry in ms by the
 * injected clock (absent: never), `f` the family (absent: none). Sessions are hashes too: `v` the
 * session JSON, `l` the last `lastSeenAt`, `e` the expiry by the clock, `u` the user key hash;
 * each user has a sorted set of their session keys scored by absolute end. Revocations are hashes of `a` (revoked at) and `e`
 * (until), both ms by the clock. A rate limiter's key is a plain string, its TAT (ms).
 *
 * Several scripts name keys they build (family members, listed ids): the stores are for a
 * standalone Redis (or Sentinel), not Redis Cluster.
 *
 * @module
 */
import { createHash } from 'node:crypto'
import type { Redis } from 'ioredis'

/** A script with its SHA-1, for EVALSHA. */
export interface Script {
  readonly source: string
  readonly sha: string
}

export function script(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') }
}

/**
 * KEYS: record, family set, kind index. ARGV: json, expiresAt ('' = never), px ('' = never),
 * family ('' = none), id, family key prefix, index the id (1/0).
 */
export const OP_SET = script(`
local old = redis.call('HGET', KEYS[1], 'f')
if old and old ~= ARGV[4] then redis.call('SREM', ARGV[6] .. old, KEYS[1]) end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'c', 0)
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'e', ARGV[2]) end
if ARGV[3] ~= '' then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
if ARGV[4] ~= '' then
  redis.call('HSET', KEYS[1], 'f', ARGV[4])
  local ttl = redis.call('PTTL', KEYS[2])
  redis.call('SADD', KEYS[2], KEYS[1])
  if ARGV[3] == '' then
    redis.call('PERSIST', KEYS[2])
  elseif ttl == -2 or (ttl >= 0 and ttl < tonumber(ARGV[3])) then
    redis.call('PEXPIRE', KEYS[2], ARGV[3])
  end
end
if ARGV[7] == '1' then redis.call('SADD', KEYS[3], ARGV[5]) end
return 1
`)

/** KEYS: record, kind index. ARGV: id, family key prefix. */
export const OP_DELETE = script(`
local f = redis.call('HGET', KEYS[1], 'f')
if f then redis.call('SREM', ARGV[2] .. f, KEYS[1]) end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[1])
return 1
`)

/** KEYS: record. ARGV: now (ms). Returns `{ json, count }` (count 1: the first) or nil. */
export const OP_CONSUME = script(`
local r = redis.call('HMGET', KEYS[1], 'v', 'e')
if not r[1] then return false end
if r[2] and tonumber(r[2]) <= tonumber(ARGV[1]) then return false end
local c = redis.call('HINCRBY', KEYS[1], 'c', 1)
return { r[1], c }
`)

/**
 * KEYS: record. ARGV: now (ms), expiresAt (ms), px. Returns 1 when the id is new (or its old
 * use expired by the clock) and records it; 0 while a use is remembered.
 */
export const OP_USE_ONCE = script(`
local e = redis.call('HGET', KEYS[1], 'e')
if e and tonumber(e) > tonumber(ARGV[1]) then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'v', '1', 'c', 1, 'e', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`)

/**
 * KEYS: family set. ARGV: family. Deletes the members still in this family (a member re-set
 * since under another family, or none, is left alone), then the set.
 */
export const OP_REVOKE_FAMILY = script(`
local members = redis.call('SMEMBERS', KEYS[1])
for _, k in ipairs(members) do
  if redis.call('HGET', k, 'f') == ARGV[1] then redis.call('DEL', k) end
end
redis.call('DEL', KEYS[1])
return #members
`)

/**
 * KEYS: kind index. ARGV: record key prefix of the kind, now (ms). Returns the live values;
 * drops ids whose record is gone (expired or deleted elsewhere) from the index.
 */
export const OP_LIST = script(`
local ids = redis.call('SMEMBERS', KEYS[1])
local out = {}
for _, id in ipairs(ids) do
  local r = redis.call('HMGET', ARGV[1] .. id, 'v', 'e')
  if not r[1] then
    redis.call('SREM', KEYS[1], id)
  elseif (not r[2]) or tonumber(r[2]) > tonumber(ARGV[2]) then
    table.insert(out, r[1])
  end
end
return out
`)

/**
 * KEYS: session, its user's session index, its provider-subject index, its provider-session
 * index. ARGV: json, lastSeenAt, expiresAt (ms), px, user key ('' = none), px of the indexes (the
 * session's absolute end plus a margin), user index key prefix, the session's absolute end (ms),
 * now (ms), provider-subject value, provider-session value ('' = none), their two key prefixes.
 * Each index is a sorted set of session keys scored by their absolute end: entries past it are
 * dropped here, so it holds at most the sessions that could still be alive. A session re-set under
 * another user (or provider login) leaves its old indexes. The hash keeps each value it is
 * indexed under (`u`, `ps`, `pi`), which deletions check before acting on an index's member.
 */
export const SESSION_SET = script(`
local function unindex(field, prefix, value)
  local old = redis.call('HGET', KEYS[1], field)
  if old and old ~= value then redis.call('ZREM', prefix .. old, KEYS[1]) end
end
local function index(field, key, value)
  redis.call('HSET', KEYS[1], field, value)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[9])
  redis.call('ZADD', key, ARGV[8], KEYS[1])
  local ttl = redis.call('PTTL', key)
  if ttl < tonumber(ARGV[6]) then redis.call('PEXPIRE', key, ARGV[6]) end
end
unindex('u', ARGV[7], ARGV[5])
unindex('ps', ARGV[12], ARGV[10])
unindex('pi', ARGV[13], ARGV[11])
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'l', ARGV[2], 'e', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
if ARGV[5] ~= '' then index('u', KEYS[2], ARGV[5]) end
index('ps', KEYS[3], ARGV[10])
if ARGV[11] ~= '' then index('pi', KEYS[4], ARGV[11]) end
return 1
`)

/**
 * KEYS: session. ARGV: the user, provider-subject and provider-session index key prefixes.
 * Deletes it and drops it from its indexes.
 */
export const SESSION_DELETE = script(`
local values = redis.call('HMGET', KEYS[1], 'u', 'ps', 'pi')
for i = 1, 3 do
  if values[i] then redis.call('ZREM', ARGV[i] .. values[i], KEYS[1]) end
end
redis.call('DEL', KEYS[1])
return 1
`)

/**
 * KEYS: a provider-subject or provider-session index. ARGV: the hash field of that index (`ps`
 * or `pi`), its value. Deletes the members still indexed under this value (a session re-set since
 * is left alone), then the index.
 */
export const SESSION_DELETE_INDEXED = script(`
local members = redis.call('ZRANGE', KEYS[1], 0, -1)
for _, k in ipairs(members) do
  if redis.call('HGET', k, ARGV[1]) == ARGV[2] then redis.call('DEL', k) end
end
redis.call('DEL', KEYS[1])
return #members
`)

/**
 * KEYS: a user's session index. ARGV: the user key. Deletes the members still of this user (a
 * session re-set since under another user is left alone), then the index.
 */
export const SESSION_DELETE_USER = script(`
local members = redis.call('ZRANGE', KEYS[1], 0, -1)
for _, k in ipairs(members) do
  if redis.call('HGET', k, 'u') == ARGV[1] then redis.call('DEL', k) end
end
redis.call('DEL', KEYS[1])
return #members
`)

/**
 * KEYS: revocation. ARGV: revokedAt (ms), until (ms), TTL margin (ms), now (ms). Keeps the
 * later of each time when a live revocation exists; the native TTL follows the kept `until`.
 */
export const REVOKE = script(`
local a, e = ARGV[1], ARGV[2]
local r = redis.call('HMGET', KEYS[1], 'a', 'e')
if r[1] and r[2] and tonumber(r[2]) > tonumber(ARGV[4]) then
  if tonumber(r[1]) > tonumber(a) then a = r[1] end
  if tonumber(r[2]) > tonumber(e) then e = r[2] end
end
redis.call('HSET', KEYS[1], 'a', a, 'e', e)
local px = math.max(1, math.ceil(tonumber(e) - tonumber(ARGV[4]))) + tonumber(ARGV[3])
redis.call('PEXPIRE', KEYS[1], px)
return 1
`)

/**
 * KEYS: session. ARGV: lastSeenAt, expiresAt (ms), px, now (ms). Only a live session is
 * touched: touch never creates one, nor revives one the clock says has expired.
 */
export const SESSION_TOUCH = script(`
local e = redis.call('HGET', KEYS[1], 'e')
if not e or tonumber(e) <= tonumber(ARGV[4]) then return 0 end
redis.call('HSET', KEYS[1], 'l', ARGV[1], 'e', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`)

/**
 * KEYS: a rate limiter's key. ARGV: now, emission interval, window (ms, as the caller's doubles
 * print them), TTL margin (ms). One GCRA step, as `gcraStep` computes it: the stored TAT (a
 * string of 17 significant digits, exact) counts from now when absent or past; a hit is allowed
 * when `tat + interval - window <= now`, and then the new TAT is stored, the key expiring at it
 * plus the margin (PX from now: the server's clock may disagree with the caller's, and a TAT
 * Redis dropped early would hand out hits the caller's clock still refuses). Returns
 * `{ 1, newTat }` when allowed, `{ 0, tat }` when refused (nothing changes), `{ -1, '' }` when
 * the stored value is not a number; TATs as strings (a number reply would be truncated to an
 * integer).
 */
export const RATE_LIMIT_HIT = script(`
local now, interval, window = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tat = now
local raw = redis.call('GET', KEYS[1])
if raw then
  local stored = tonumber(raw)
  if not stored then return { -1, '' } end
  if stored > now then tat = stored end
end
local nxt = tat + interval
if nxt - window > now then return { 0, string.format('%.17g', tat) } end
local px = math.max(1, math.ceil(nxt - now)) + tonumber(ARGV[4])
redis.call('SET', KEYS[1], string.format('%.17g', nxt), 'PX', px)
return { 1, string.format('%.17g', nxt) }
`)

/** Runs a script by SHA, loading it with EVAL when the server does not have it (NOSCRIPT). */
export async function runScript(
  redis: Redis,
  s: Script,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown> {
  try {
    return await redis.evalsha(s.sha, keys.length, ...keys, ...args)
  } catch (err) {
    if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err
    return await redis.eval(s.source, keys.length, ...keys, ...args)
  }
}
