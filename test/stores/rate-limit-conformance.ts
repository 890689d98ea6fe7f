// The rate-limit conformance suite: the same cases for every RateLimitStore (memory, SQLite,
// PostgreSQL, Redis). "Now" is the caller's argument, so time moves without sleeping. The exact
// numbers of a burst are written out; longer runs are compared step by step with the pure
// gcraStep (a differential test: the SQL and Lua must compute exactly what it computes).
// Concurrency is real: 40 hits at once, split over two connections or clients when the backend
// has them.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import {
  gcraStep,
  type RateLimitDecision,
  type RateLimitRule,
  type RateLimitStore,
} from '../../src/core/rate-limit.ts'

/** What a rate-limit store under test provides; `close` removes everything it created. */
export interface RateLimitUnderTest {
  readonly store: RateLimitStore
  /** Another instance over the same backend (its own connection or client); none for memory. */
  readonly twin?: RateLimitStore
  /** Objects that must carry `store` as their `rateLimits` (the same factory's op and sessions). */
  readonly carriers?: readonly { readonly rateLimits?: RateLimitStore | undefined }[]
  close(): Promise<void>
}

/** Builds a fresh store (its own tables or key prefix). */
export type RateLimitFactory = () => Promise<RateLimitUnderTest>

const START = Date.UTC(2026, 10, 25, 12) + 0.25

const allowed = (remaining: number): RateLimitDecision => ({
  allowed: true,
  remaining,
  retryAfterSeconds: 0,
})
const refused = (retryAfterSeconds: number): RateLimitDecision => ({
  allowed: false,
  remaining: 0,
  retryAfterSeconds,
})

/** A small deterministic generator (the runs must be reproducible). */
function random(seed: number): () => number {
  let state = seed
  return () => {
    state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0
    return state / 2 ** 32
  }
}

/** Runs every rate-limit conformance case against `factory` (or skips them with `skip`). */
export function rateLimitConformance(
  name: string,
  factory: RateLimitFactory,
  skip: string | false = false,
): void {
  describe(`${name} rate-limit conformance`, { skip }, () => {
    let under: RateLimitUnderTest
    let limits: RateLimitStore
    before(async () => {
      under = await factory()
      limits = under.store
    })
    after(async () => {
      await under?.close()
    })

    const five: RateLimitRule = { limit: 5, windowSeconds: 60 } // one every 12 s

    it('allows a burst of `limit`, counting down, then refuses with the time to wait', async () => {
      const now = START
      const decisions = []
      for (let i = 0; i < 7; i++) decisions.push(await limits.hit('burst', five, now))
      assert.deepEqual(decisions, [
        allowed(4),
        allowed(3),
        allowed(2),
        allowed(1),
        allowed(0),
        refused(12),
        refused(12),
      ])
      assert.deepEqual(await limits.hit('burst', five, now + 500), refused(12), '11.5 s round up')
      assert.deepEqual(await limits.hit('burst', five, now + 11_000), refused(1))
    })

    it('refills one hit per emission interval, exactly one', async () => {
      const now = START
      for (let i = 0; i < 5; i++) await limits.hit('refill', five, now)
      assert.deepEqual(await limits.hit('refill', five, now + 11_999), refused(1))
      assert.deepEqual(await limits.hit('refill', five, now + 12_000), allowed(0))
      assert.deepEqual(await limits.hit('refill', five, now + 12_000), refused(12))
      assert.deepEqual(await limits.hit('refill', five, now + 30_000), allowed(0), '18 s: one')
      assert.deepEqual(await limits.hit('refill', five, now + 30_000), refused(6))
    })

    it('refills fully after a long pause, never beyond `limit`', async () => {
      const now = START
      for (let i = 0; i < 5; i++) await limits.hit('pause', five, now)
      const later = now + 10 * 60_000
      assert.deepEqual(await limits.peek('pause', five, later), allowed(4))
      const decisions = []
      for (let i = 0; i < 6; i++) decisions.push(await limits.hit('pause', five, later))
      assert.deepEqual(decisions, [
        allowed(4),
        allowed(3),
        allowed(2),
        allowed(1),
        allowed(0),
        refused(12),
      ])
    })

    it('peek tells what a hit would find and changes nothing', async () => {
      const now = START
      assert.deepEqual(await limits.peek('peek', five, now), allowed(4), 'an unknown key')
      await limits.hit('peek', five, now)
      await limits.hit('peek', five, now)
      for (let i = 0; i < 10; i++)
        assert.deepEqual(await limits.peek('peek', five, now), allowed(2))
      assert.deepEqual(await limits.hit('peek', five, now), allowed(2))
      await limits.hit('peek', five, now)
      await limits.hit('peek', five, now)
      for (let i = 0; i < 3; i++)
        assert.deepEqual(await limits.peek('peek', five, now), refused(12))
      assert.deepEqual(await limits.hit('peek', five, now + 12_000), allowed(0))
    })

    it('reset gives the full allowance back; resetting an unknown key is fine', async () => {
      const now = START
      for (let i = 0; i < 5; i++) await limits.hit('reset', five, now)
      assert.equal((await limits.hit('reset', five, now)).allowed, false)
      await limits.reset('reset')
      assert.deepEqual(await limits.peek('reset', five, now), allowed(4))
      assert.deepEqual(await limits.hit('reset', five, now), allowed(4))
      await limits.reset('never-hit')
      assert.deepEqual(await limits.hit('never-hit', five, now), allowed(4))
    })

    it('keeps keys independent, whatever characters they hold', async () => {
      const now = START
      const keys = ['ip:203.0.113.7', 'ip:203.0.113.8', 'user:zoë 🚀', `h:${'x'.repeat(198)}`]
      for (let i = 0; i < 5; i++) await limits.hit(keys[0] as string, five, now)
      assert.equal((await limits.hit(keys[0] as string, five, now)).allowed, false)
      for (const key of keys.slice(1))
        assert.deepEqual(await limits.hit(key, five, now), allowed(4))
      assert.deepEqual(await limits.peek('ip:203.0.113', five, now), allowed(4), 'no prefix match')
    })

    it('handles fractional intervals: 3 per second is one every 333.33 ms', async () => {
      const rule = { limit: 3, windowSeconds: 1 }
      const now = START
      for (const remaining of [2, 1, 0])
        assert.deepEqual(await limits.hit('third', rule, now), allowed(remaining))
      assert.deepEqual(await limits.hit('third', rule, now), refused(1))
      assert.deepEqual(await limits.hit('third', rule, now + 333), refused(1), '333 < 333.33')
      assert.deepEqual(await limits.hit('third', rule, now + 334), allowed(0))
      assert.deepEqual(await limits.hit('third', rule, now + 667), allowed(0), '2/3 s after')
      assert.deepEqual(await limits.hit('third', rule, now + 667), refused(1))
    })

    it('decides exactly as gcraStep over long runs of hits and peeks (differential)', async () => {
      const rules: RateLimitRule[] = [
        { limit: 7, windowSeconds: 10 },
        { limit: 3, windowSeconds: 1 },
        { limit: 1, windowSeconds: 2.5 },
        { limit: 100, windowSeconds: 0.3 },
        { limit: 11, windowSeconds: 86_400 },
      ]
      for (const [r, rule] of rules.entries()) {
        const next = random(r + 1)
        const windowMs = rule.windowSeconds * 1000
        let now = START + next() * 1000
        let model: number | undefined
        for (let step = 0; step < 100; step++) {
          // Bursts at one instant, small fractional steps, and pauses up to a window.
          const roll = next()
          now += roll < 0.4 ? 0 : roll < 0.8 ? (next() * windowMs) / rule.limit : next() * windowMs
          const expected = gcraStep(model, rule, now)
          if (next() < 0.15) {
            assert.deepEqual(await limits.peek(`diff-${r}`, rule, now), expected.decision)
            continue
          }
          const got = await limits.hit(`diff-${r}`, rule, now)
          assert.deepEqual(got, expected.decision, `rule ${r}, step ${step}`)
          if (expected.decision.allowed) model = expected.tat
        }
      }
    })

    it('lets exactly `limit` of 40 concurrent hits through, each with its own remaining', async () => {
      const rule = { limit: 10, windowSeconds: 60 }
      const stores = [limits, under.twin ?? limits]
      const decisions = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          (stores[i % 2] as RateLimitStore).hit('race', rule, START),
        ),
      )
      const through = decisions.filter((d) => d.allowed)
      assert.equal(through.length, 10)
      assert.deepEqual(
        through.map((d) => d.remaining).sort((a, b) => a - b),
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        'no two hits saw the same state',
      )
      for (const d of decisions.filter((d) => !d.allowed)) assert.deepEqual(d, refused(6))
      assert.deepEqual(await limits.peek('race', rule, START), refused(6))
    })

    it('shares one limit between two instances over the same backend', async (t) => {
      const twin = under.twin
      if (!twin) return t.skip('a bare per-process limiter: no second instance')
      const now = START
      for (let i = 0; i < 3; i++) await limits.hit('shared', five, now)
      assert.deepEqual(await twin.peek('shared', five, now), allowed(1))
      assert.deepEqual(await twin.hit('shared', five, now), allowed(1))
      assert.deepEqual(await limits.hit('shared', five, now), allowed(0))
      assert.deepEqual(await twin.hit('shared', five, now), refused(12))
      await twin.reset('shared')
      assert.deepEqual(await limits.peek('shared', five, now), allowed(4))
    })

    it('is the rateLimits of the op and session stores made with it', (t) => {
      const carriers = under.carriers ?? []
      if (carriers.length === 0) return t.skip('a bare rate-limit store')
      for (const carrier of carriers) assert.equal(carrier.rateLimits, limits)
    })
  })
}
