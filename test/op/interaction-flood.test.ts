// A flood of unauthenticated authorization requests and page loads costs the OP no stored
// state (src/op/endpoints/interaction/sealed.ts): 20,000 GET /authorize and 5,000 GET
// /interaction/:uid through op.handler leave the memory store's size where it was, and the heap
// bounded. The numbers are printed; no timing is asserted.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { Pkce } from '../../src/core/pkce.ts'
import { ISSUER, testOp, WEB_REDIRECT } from './helpers/op-setup.ts'

const AUTHORIZE = 20_000
const PAGES = 5_000

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

function heapNow(): { heap: number; rss: number } {
  gc()
  gc()
  const { heapUsed, rss } = process.memoryUsage()
  return { heap: heapUsed, rss }
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`

describe('flood of unauthenticated /authorize', () => {
  it('20,000 authorization requests and 5,000 page loads store nothing', async () => {
    const { op, store } = await testOp()
    const pkce = await Pkce.generate()
    const base = new URL(`${ISSUER}/authorize`)
    for (const [k, v] of Object.entries({
      response_type: 'code',
      client_id: 'web',
      redirect_uri: WEB_REDIRECT,
      scope: 'openid profile email',
      code_challenge: pkce.codeChallenge,
      code_challenge_method: 'S256',
    }))
      base.searchParams.set(k, v)
    const size = store.size()
    const start = heapNow()
    const interactions: { location: string; cookie: string }[] = []
    for (let i = 0; i < AUTHORIZE; i++) {
      const url = new URL(base)
      url.searchParams.set('state', `flood-${i}-${'x'.repeat(32)}`)
      url.searchParams.set('nonce', `nonce-${i}-${'y'.repeat(32)}`)
      const response = await op.handler(new Request(url))
      assert.equal(response.status, 303)
      if (i < PAGES) {
        const cookie = (response.headers.getSetCookie()[0] ?? '').split(';')[0] ?? ''
        interactions.push({ location: response.headers.get('location') ?? '', cookie })
      }
    }
    assert.equal(store.size(), size, 'no interaction stored')
    const cookieBytes = interactions[0]?.cookie.length ?? 0
    const afterAuthorize = heapNow()
    for (const { location, cookie } of interactions) {
      const page = await op.handler(new Request(location, { headers: { cookie } }))
      assert.equal(page.status, 200)
      await page.text()
    }
    assert.equal(store.size(), size, 'no CSRF record stored')
    interactions.length = 0
    const end = heapNow()
    console.log(
      `flood: store ${size} → ${store.size()} records; cookie ${cookieBytes} bytes; heap ${mb(start.heap)} → ${mb(afterAuthorize.heap)} after ${AUTHORIZE} /authorize → ${mb(end.heap)} after ${PAGES} pages; rss ${mb(start.rss)} → ${mb(end.rss)}`,
    )
    assert.ok(end.heap - start.heap < 32 * 1024 * 1024, 'the heap stays bounded')
  })
})
