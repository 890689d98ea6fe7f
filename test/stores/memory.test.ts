// The conformance suite against the in-memory stores.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createMemoryRevocationStore } from '../../src/engine/revocations/memory.ts'
import { createMemorySessionStore } from '../../src/engine/sessions/memory.ts'
import { createMemoryCredentialStore } from '../../src/mfa/store/memory.ts'
import { createMemoryOpStore } from '../../src/op/store/memory.ts'
import { storeConformance } from './conformance.ts'
import { rateLimitConformance } from './rate-limit-conformance.ts'

storeConformance('memory', async (clock) => {
  const sessions = createMemorySessionStore({ clock })
  const op = createMemoryOpStore({ clock })
  const revocations = createMemoryRevocationStore({ clock })
  return {
    sessions,
    op,
    revocations,
    credentials: createMemoryCredentialStore({ clock }),
    async close() {
      sessions.close()
      op.close()
      revocations.close()
    },
  }
})

// createMemoryRateLimitStore, as the memory OP store carries it: two OP instances over one memory
// store share it.
rateLimitConformance('memory', async () => {
  const op = createMemoryOpStore()
  const limits = op.rateLimits
  return {
    store: limits,
    twin: limits,
    carriers: [op],
    async close() {
      op.close()
    },
  }
})

describe('memory session store internals', () => {
  it('keeps a read session’s user key even after its slot is reused', async () => {
    const { createHash } = await import('node:crypto')
    const key = (s: string) => createHash('sha256').update(s).digest('base64url')
    const store = createMemorySessionStore()
    const base = {
      user: {},
      provider: 'p',
      subject: 's',
      createdAt: 1,
      expiresAt: 2,
      lastSeenAt: 1,
    }
    await store.set(key('a'), { ...base, userKey: key('alice') }, 60)
    const read = await store.get(key('a'))
    await store.delete(key('a'))
    await store.set(key('b'), { ...base, userKey: key('bob') }, 60)
    assert.equal(read?.userKey, key('alice'))
    assert.equal((await store.get(key('b')))?.userKey, key('bob'))
    store.close()
  })

  it('IdTable matches a Map under random sets and deletes, in insertion order', async () => {
    const { createHash } = await import('node:crypto')
    const { IdTable } = await import('../../src/engine/sessions/id-table.ts')
    const fc = (await import('fast-check')).default
    const pool = Array.from({ length: 300 }, (_, i) =>
      i % 7 === 0 ? `odd-${i}` : createHash('sha256').update(String(i)).digest('base64url'),
    )
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: pool.length - 1 })), {
          maxLength: 3000,
        }),
        (ops) => {
          const table = new IdTable()
          const ref = new Map<string, number>()
          let next = 0
          for (const [add, i] of ops) {
            const id = pool[i] as string
            if (add && !ref.has(id)) {
              table.set(id, next)
              ref.set(id, next++)
            } else if (!add && ref.has(id)) {
              table.deleteSlot(ref.get(id) as number)
              ref.delete(id)
            }
            assert.equal(table.get(id), ref.get(id))
          }
          assert.equal(table.size, ref.size)
          assert.deepEqual(
            [...table.slots()].map((s) => table.idOf(s)),
            [...ref.keys()],
          )
        },
      ),
      { numRuns: 50 },
    )
  })

  it('encodes slot bytes the same on Node Buffer pages and portable pages', async () => {
    const { PagedBytes, portablePages, PAGE } = await import('../../src/engine/sessions/pages.ts')
    const { randomBytes } = await import('node:crypto')
    const native = new PagedBytes(32)
    const portable = new PagedBytes(32, portablePages)
    // Slots on either side of a page boundary, and far into a later page.
    for (const slot of [0, 1, PAGE - 1, PAGE, PAGE + 1, 3 * PAGE + 17]) {
      const bytes = randomBytes(32)
      native.write(slot, bytes)
      portable.write(slot, bytes)
      assert.equal(native.base64url(slot), bytes.toString('base64url'))
      assert.equal(portable.base64url(slot), bytes.toString('base64url'))
      assert.ok(native.equals(slot, bytes) && portable.equals(slot, bytes))
    }
  })

  it('keeps each field of a multi-field row apart', async () => {
    const { Paged, PAGE } = await import('../../src/engine/sessions/pages.ts')
    const rows = new Paged((n) => new Float64Array(n), 4)
    for (const slot of [0, PAGE - 1, PAGE])
      for (let f = 0; f < 4; f++) rows.set(slot, slot * 10 + f, f)
    for (const slot of [0, PAGE - 1, PAGE])
      for (let f = 0; f < 4; f++) assert.equal(rows.get(slot, f), slot * 10 + f)
  })

  it('keeps provider and user-key kind apart in the packed slot metadata', async () => {
    const { createHash } = await import('node:crypto')
    const key = (s: string) => createHash('sha256').update(s).digest('base64url')
    const store = createMemorySessionStore()
    const kinds = [key('user'), 'not-a-digest', undefined]
    const stored = (i: number) => {
      const userKey = kinds[i % 3]
      return {
        user: { i },
        provider: `p${i % 300}`,
        subject: `sub${i}`,
        createdAt: i,
        expiresAt: i + 1,
        lastSeenAt: i + 2,
        ...(userKey === undefined ? {} : { userKey }),
      }
    }
    for (let i = 0; i < 600; i++) await store.set(key(`s${i}`), stored(i), 60)
    for (let i = 0; i < 600; i++) assert.deepEqual(await store.get(key(`s${i}`)), stored(i))
    await store.deleteByUser('not-a-digest')
    assert.equal(store.size(), 400)
    await store.deleteByUser(key('user'))
    assert.equal(store.size(), 200)
    store.close()
  })

  it('refuses a provider name past the 16,383 the slot metadata can index', async () => {
    const store = createMemorySessionStore()
    const base = { user: {}, subject: 's', createdAt: 1, expiresAt: 2, lastSeenAt: 1 }
    for (let i = 0; i < 16_383; i++) await store.set(`id${i}`, { ...base, provider: `p${i}` }, 60)
    await assert.rejects(store.set('id0', { ...base, provider: 'p-last' }, 60), RangeError)
    // Refused before anything changed: the session under that id is still there, whole.
    assert.equal((await store.get('id0'))?.provider, 'p0')
    assert.equal(store.size(), 16_383)
    // A known provider still stores.
    await store.set('known', { ...base, provider: 'p0' }, 60)
    assert.equal((await store.get('known'))?.provider, 'p0')
    store.close()
  })
})
