// The conformance suite against the in-memory stores.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createMemoryRevocationStore } from '../../src/engine/revocations/memory.ts'
import { createMemorySessionStore } from '../../src/engine/sessions/memory.ts'
import { createMemoryOpStore } from '../../src/op/store/memory.ts'
import { storeConformance } from './conformance.ts'

storeConformance('memory', async (clock) => {
  const sessions = createMemorySessionStore({ clock })
  const op = createMemoryOpStore({ clock })
  const revocations = createMemoryRevocationStore({ clock })
  return {
    sessions,
    op,
    revocations,
    async close() {
      sessions.close()
      op.close()
      revocations.close()
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
})
