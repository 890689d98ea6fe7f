/**
 * The Redis {@link OpStore}. A record is a hash at `${prefix}op:${kind}:${id}` (fields in
 * `scripts.ts`) with a native TTL (PX) a little longer than its lifetime; its expiry by the
 * injected clock is in the hash, so reads honour that clock. A family is a set
 * `${prefix}family:${family}` of member keys, living at least as long as its longest member;
 * `key`, `client` and `sealKey` records are indexed in a set `${prefix}kind:${kind}` of ids for `list`.
 *
 * @module
 */

import type { Redis } from 'ioredis'
import type { Clock } from '../../core/clock.ts'
import { AuthkestraError } from '../../core/errors.ts'
import type {
  ConsumableKind,
  Consumed,
  ListableKind,
  OpRecordKind,
  OpRecords,
  OpSetOptions,
  OpStore,
} from '../redis.ts'
import { type Guard, parseJson, UnreadableRecord } from './guard.ts'
import {
  OP_CONSUME,
  OP_DELETE,
  OP_LIST,
  OP_REVOKE_FAMILY,
  OP_SET,
  OP_USE_ONCE,
  runScript,
} from './scripts.ts'

/** What the OP store is built from. */
export interface RedisOpDeps {
  readonly redis: Redis
  /** The key prefix as given, e.g. `authkestra:` (for KEYS, which the client prefixes itself). */
  readonly prefix: string
  /** The prefix as the server sees it (the client's own `keyPrefix` first): for built keys. */
  readonly serverPrefix: string
  readonly clock: Clock
  readonly guard: Guard
  /** Native TTL in ms for a lifetime in seconds (the lifetime plus a margin). */
  readonly px: (ttlSeconds: number) => number
}

/** Kinds `list` serves: small sets, indexed on write. */
const INDEXED: ReadonlySet<OpRecordKind> = new Set(['key', 'client', 'sealKey'])

/** Builds the OP store. */
export function createRedisOpStore(deps: RedisOpDeps): OpStore {
  const { redis, prefix, serverPrefix, clock, guard, px } = deps
  const recordKey = (kind: OpRecordKind, id: string) => `${prefix}op:${kind}:${id}`
  const indexKey = (kind: OpRecordKind) => `${prefix}kind:${kind}`
  const familyKey = (family: string) => `${prefix}family:${family}`

  return {
    get<K extends OpRecordKind>(kind: K, id: string) {
      return guard('op.get', async () => {
        const [value, expiresAt] = await redis.hmget(recordKey(kind, id), 'v', 'e')
        if (value == null) return undefined
        if (expiresAt != null && Number(expiresAt) <= clock.now()) return undefined
        return parseJson(value) as OpRecords[K]
      })
    },

    set<K extends OpRecordKind>(kind: K, id: string, value: OpRecords[K], options?: OpSetOptions) {
      const ttl = options?.ttlSeconds
      if (ttl !== undefined && !Number.isFinite(ttl)) {
        return Promise.reject(
          new AuthkestraError('config_invalid', '"ttlSeconds" must be a finite number'),
        )
      }
      return guard('op.set', async () => {
        const family = options?.family ?? ''
        await runScript(
          redis,
          OP_SET,
          [recordKey(kind, id), familyKey(family), indexKey(kind)],
          [
            JSON.stringify(value),
            ttl === undefined ? '' : clock.now() + ttl * 1000,
            ttl === undefined ? '' : px(ttl),
            family,
            id,
            `${serverPrefix}family:`,
            INDEXED.has(kind) ? '1' : '0',
          ],
        )
      })
    },

    delete(kind: OpRecordKind, id: string) {
      return guard('op.delete', async () => {
        await runScript(
          redis,
          OP_DELETE,
          [recordKey(kind, id), indexKey(kind)],
          [id, `${serverPrefix}family:`],
        )
      })
    },

    consume<K extends ConsumableKind>(kind: K, id: string) {
      return guard('op.consume', async (): Promise<Consumed<OpRecords[K]> | undefined> => {
        const reply = await runScript(redis, OP_CONSUME, [recordKey(kind, id)], [clock.now()])
        if (reply == null) return undefined
        if (!Array.isArray(reply) || typeof reply[0] !== 'string')
          throw new UnreadableRecord('unexpected reply to the consume script')
        return {
          value: parseJson(reply[0]) as OpRecords[K],
          alreadyConsumed: Number(reply[1]) !== 1,
        }
      })
    },

    useOnce(id: string, ttlSeconds: number) {
      return guard('op.useOnce', async () => {
        const now = clock.now()
        const reply = await runScript(
          redis,
          OP_USE_ONCE,
          [`${prefix}once:${id}`],
          [now, now + ttlSeconds * 1000, px(ttlSeconds)],
        )
        return Number(reply) === 1
      })
    },

    revokeFamily(family: string) {
      return guard('op.revokeFamily', async () => {
        await runScript(redis, OP_REVOKE_FAMILY, [familyKey(family)], [family])
      })
    },

    list<K extends ListableKind>(kind: K) {
      return guard('op.list', async () => {
        const reply = await runScript(
          redis,
          OP_LIST,
          [indexKey(kind)],
          [`${serverPrefix}op:${kind}:`, clock.now()],
        )
        if (!Array.isArray(reply)) throw new UnreadableRecord('unexpected reply to the list script')
        return reply.map((value) => {
          if (typeof value !== 'string') throw new UnreadableRecord('unexpected list entry')
          return parseJson(value) as OpRecords[K]
        })
      })
    },
  }
}
