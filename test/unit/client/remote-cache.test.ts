import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { RemoteCache } from '../../../src/client/remote-cache.ts'

function harness() {
  let now = 0
  let calls = 0
  let next: () => Promise<string> = async () => `v${calls}`
  const cache = new RemoteCache<string>(
    async () => {
      calls++
      await new Promise((resolve) => setTimeout(resolve, 1))
      return { value: await next(), ttlMs: 10_000 }
    },
    { clock: { now: () => now } },
  )
  return {
    cache,
    calls: () => calls,
    advance: (ms: number) => {
      now += ms
    },
    answer: (f: () => Promise<string>) => {
      next = f
    },
  }
}

describe('RemoteCache', () => {
  it('serves a fresh value without fetching, and refetches once it is stale', async () => {
    const h = harness()
    assert.equal(await h.cache.get(), 'v1')
    h.advance(9_999)
    assert.equal(await h.cache.get(), 'v1')
    assert.equal(h.calls(), 1)
    h.advance(1)
    assert.equal(await h.cache.get(), 'v2')
  })

  it('shares one fetch among concurrent callers, for get and refresh alike', async () => {
    const h = harness()
    const values = await Promise.all([h.cache.get(), h.cache.get(), h.cache.refresh('x', 0)])
    assert.deepEqual(values, ['v1', 'v1', 'v1'])
    assert.equal(h.calls(), 1)
  })

  it('refresh: refetches after the cooldown, not before; a newer value than the one seen is returned as is', async () => {
    const h = harness()
    const first = await h.cache.get()
    assert.equal(await h.cache.refresh(first, 30_000), first, 'cooling down: the same value')
    h.advance(5_000)
    assert.equal(await h.cache.refresh(first, 5_000), 'v2')
    assert.equal(await h.cache.refresh(first, 0), 'v2', 'already newer than what the caller saw')
    assert.equal(h.calls(), 2)
  })

  it('after a failure, rejects without fetching until the backoff is over, and a success resets it', async () => {
    const h = harness()
    h.answer(async () => {
      throw new Error('down')
    })
    await assert.rejects(h.cache.get(), /down/)
    await assert.rejects(h.cache.refresh('x', 0), /down/, 'a forced refresh waits too')
    assert.equal(h.calls(), 1)
    h.advance(1_000)
    await assert.rejects(h.cache.get(), /down/)
    assert.equal(h.calls(), 2)
    h.advance(2_000)
    h.answer(async () => 'back')
    assert.equal(await h.cache.get(), 'back')
    h.answer(async () => {
      throw new Error('down again')
    })
    h.advance(10_000)
    await assert.rejects(h.cache.get(), /down again/)
    h.advance(1_000)
    await assert.rejects(h.cache.get(), /down again/)
    assert.equal(h.calls(), 5, 'the backoff started again from 1 s')
  })

  it('keeps serving a fresh value while a forced refresh fails', async () => {
    const h = harness()
    const first = await h.cache.get()
    h.answer(async () => {
      throw new Error('down')
    })
    await assert.rejects(h.cache.refresh(first, 0), /down/)
    assert.equal(await h.cache.get(), first)
  })
})
