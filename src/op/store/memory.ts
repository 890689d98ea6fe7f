/**
 * The in-memory {@link OpStore}: for tests, the dev IdP and single-process apps. Records expire on
 * read and are swept every minute; nothing survives a restart (use a database store for that).
 *
 * @module
 */

import { type Clock, systemClock } from '../../core/clock.ts'
import { createMemoryRateLimitStore, type RateLimitStore } from '../../core/rate-limit.ts'
import type {
  ConsumableKind,
  Consumed,
  ListableKind,
  OpRecordKind,
  OpRecords,
  OpSetOptions,
  OpStore,
} from './types.ts'

/** The kinds whose records are made from the app's configuration (accounts, clients, keys). */
const COPIED: ReadonlySet<OpRecordKind> = new Set(['account', 'client', 'key', 'username'])

interface Entry {
  value: unknown
  expiresAt: number
  consumed: boolean
  family: string | undefined
}

/**
 * An in-memory OP store.
 *
 * @example
 * ```ts
 * const op = await createOp({ issuer, clients, store: createMemoryOpStore() })
 * ```
 */
export function createMemoryOpStore(
  options: { clock?: Clock; sweepIntervalMs?: number } = {},
): OpStore & {
  /** The per-process limiter (`createMemoryRateLimitStore`) the OP counts its limits in. */
  readonly rateLimits: RateLimitStore
  /** Stops the background sweep (for tests and shutdown). */
  close(): void
  /** How many records are held (all kinds). */
  size(): number
} {
  const clock = options.clock ?? systemClock
  const entries = new Map<string, Entry>()
  const families = new Map<string, Set<string>>()
  const key = (kind: OpRecordKind, id: string) => `${kind}\u0000${id}`

  function live(k: string): Entry | undefined {
    const entry = entries.get(k)
    if (!entry) return undefined
    if (entry.expiresAt <= clock.now()) {
      remove(k)
      return undefined
    }
    return entry
  }

  function remove(k: string): void {
    const entry = entries.get(k)
    if (!entry) return
    entries.delete(k)
    if (entry.family) families.get(entry.family)?.delete(k)
  }

  const timer = setInterval(() => {
    const now = clock.now()
    for (const [k, entry] of entries) if (entry.expiresAt <= now) remove(k)
  }, options.sweepIntervalMs ?? 60_000)
  ;(timer as { unref?: () => void }).unref?.()

  return {
    rateLimits: createMemoryRateLimitStore(),
    async get<K extends OpRecordKind>(kind: K, id: string) {
      return live(key(kind, id))?.value as OpRecords[K] | undefined
    },
    async set<K extends OpRecordKind>(
      kind: K,
      id: string,
      value: OpRecords[K],
      opts: OpSetOptions = {},
    ) {
      const k = key(kind, id)
      remove(k)
      const expiresAt =
        opts.ttlSeconds === undefined
          ? Number.POSITIVE_INFINITY
          : clock.now() + opts.ttlSeconds * 1000
      entries.set(k, {
        // Records are immutable (readonly types) and built fresh per request; only those that
        // come from the app's configuration are copied, so a later change there cannot reach in.
        value: COPIED.has(kind) ? structuredClone(value) : value,
        expiresAt,
        consumed: false,
        family: opts.family,
      })
      if (opts.family) {
        const members = families.get(opts.family) ?? new Set<string>()
        families.set(opts.family, members)
        members.add(k)
      }
    },
    async delete(kind: OpRecordKind, id: string) {
      remove(key(kind, id))
    },
    async consume<K extends ConsumableKind>(
      kind: K,
      id: string,
    ): Promise<Consumed<OpRecords[K]> | undefined> {
      const entry = live(key(kind, id))
      if (!entry) return undefined
      // Single-threaded: the read and the mark happen with no await in between.
      const alreadyConsumed = entry.consumed
      entry.consumed = true
      return { value: entry.value as OpRecords[K], alreadyConsumed }
    },
    async useOnce(id: string, ttlSeconds: number) {
      const k = `once\u0000${id}`
      if (live(k)) return false
      entries.set(k, {
        value: true,
        expiresAt: clock.now() + ttlSeconds * 1000,
        consumed: true,
        family: undefined,
      })
      return true
    },
    async revokeFamily(family: string) {
      for (const k of families.get(family) ?? []) entries.delete(k)
      families.delete(family)
    },
    async list<K extends ListableKind>(kind: K) {
      const prefix = `${kind}\u0000`
      const out: OpRecords[K][] = []
      for (const k of [...entries.keys()]) {
        if (!k.startsWith(prefix)) continue
        const entry = live(k)
        if (entry) out.push(entry.value as OpRecords[K])
      }
      return out
    },
    close() {
      clearInterval(timer)
    },
    size() {
      return entries.size
    },
  }
}
