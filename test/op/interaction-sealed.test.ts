// The sealed interaction (src/op/endpoints/interaction/sealed.ts, csrf.ts): an unauthenticated
// /authorize and its pages store nothing; hostile cookies and CSRF tokens are refused with the
// expired page and nothing stored; the first POST claims the interaction, and a copy of its
// sealed cookie kept back opens nothing after; an OP of another secret cannot open it.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { CompactEncrypt } from 'jose'
import { actionOf, authorizationUrl, Browser, csrfOf } from './helpers/browser.ts'
import { ISSUER, testOp, WEB_REDIRECT } from './helpers/op-setup.ts'

const SECRET_A = 'interaction-seal-secret-a-0123456789abcdef'
const SECRET_B = 'interaction-seal-secret-b-0123456789abcdef'
const EXPIRED = /This sign-in has expired or was opened in another browser/

async function begin(browser: Browser, params: Record<string, string | undefined> = {}) {
  const auth = await authorizationUrl(ISSUER, {
    client_id: 'web',
    redirect_uri: WEB_REDIRECT,
    ...params,
  })
  const start = await browser.get(auth.url)
  assert.equal(start.status, 303)
  const location = start.headers.get('location') ?? ''
  const uid = location.slice(location.lastIndexOf('/') + 1)
  const sealed = browser.cookies.get('ak_op_interaction')?.value ?? ''
  return { auth, location, uid, sealed }
}

/** A browser that holds only `value` as the interaction cookie of `uid`. */
function withCookie(handler: Browser['handler'], uid: string, value: string): Browser {
  const browser = new Browser(handler)
  browser.setCookie('ak_op_interaction', value, `/interaction/${uid}`)
  return browser
}

async function assertExpired(response: Response): Promise<void> {
  assert.equal(response.status, 400)
  const body = await response.text()
  assert.match(body, EXPIRED)
  assert.ok(!/eyJ[A-Za-z0-9_-]{20}/.test(body), 'no cookie value echoed')
}

describe('sealed interaction: nothing stored before the first POST', () => {
  it('GET /authorize and the pages store nothing; the first POST stores the interaction', async () => {
    const { op, store } = await testOp()
    const before = store.size()
    const browser = new Browser(op.handler)
    const { location, sealed } = await begin(browser)
    assert.equal(sealed.split('.').length, 5, 'a compact JWE')
    const page = await (await browser.get(location)).text()
    await browser.get(location)
    assert.equal(store.size(), before, 'no interaction, no CSRF record')
    const wrong = await browser.post(actionOf(page), {
      username: 'alice',
      password: 'nope',
      csrf: csrfOf(page),
    })
    assert.equal(wrong.status, 401)
    assert.ok(store.size() > before, 'the first POST stored the interaction')
  })

  it('refuses a tampered, forged, expired or other-uid sealed cookie, storing nothing', async () => {
    const { op, store, now } = await testOp()
    const browser = new Browser(op.handler)
    const a = await begin(browser)
    const b = await begin(new Browser(op.handler))
    const before = store.size()
    const flip = (s: string, at: number) =>
      s.slice(0, at) + (s[at] === 'A' ? 'B' : 'A') + s.slice(at + 1)
    const parts = a.sealed.split('.')
    const tampered = [parts[0], parts[1], parts[2], flip(parts[3] ?? '', 5), parts[4]].join('.')
    const header = JSON.parse(Buffer.from(parts[0] ?? '', 'base64url').toString()) as {
      kid: string
    }
    const forged = await new CompactEncrypt(
      new TextEncoder().encode(
        JSON.stringify({
          iss: ISSUER,
          uid: a.uid,
          record: { request: { clientId: 'web' }, createdAt: 0 },
        }),
      ),
    )
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: header.kid })
      .encrypt(new Uint8Array(32).fill(7))
    for (const [name, value, uid] of [
      ['tampered', tampered, a.uid],
      ['forged under a guessed key', forged, a.uid],
      ['truncated', a.sealed.slice(0, -4), a.uid],
      ['another interaction', b.sealed, a.uid],
      ['a bare uid never stored', a.uid, a.uid],
      ['garbage', 'x.y.z.w.v', a.uid],
    ] as const) {
      const page = await withCookie(op.handler, uid, value).get(`${ISSUER}/interaction/${uid}`)
      await assertExpired(page)
      const post = await withCookie(op.handler, uid, value).post(
        `${ISSUER}/interaction/${uid}/login`,
        { username: 'alice', password: 'wonderland', csrf: 'A'.repeat(22) },
      )
      assert.equal(post.status, 400, name)
    }
    assert.equal(store.size(), before, 'nothing stored')
    now.value += 601_000
    await assertExpired(await browser.get(a.location))
    assert.equal(store.size(), before)
  })

  it('refuses a replayed CSRF token and the token of another interaction', async () => {
    const { op, store } = await testOp()
    const browser = new Browser(op.handler)
    const a = await begin(browser)
    const pageA = await (await browser.get(a.location)).text()
    const b = await begin(browser)
    const pageB = await (await browser.get(b.location)).text()
    const before = store.size()
    const crossed = await browser.post(actionOf(pageB), {
      username: 'alice',
      password: 'wonderland',
      csrf: csrfOf(pageA),
    })
    await assertExpired(crossed)
    assert.equal(store.size(), before, 'a token of another uid is refused before any write')
    const form = { username: 'alice', password: 'wrong', csrf: csrfOf(pageA) }
    assert.equal((await browser.post(actionOf(pageA), form)).status, 401)
    await assertExpired(await browser.post(actionOf(pageA), form))
    const mangled = `${csrfOf(pageB).slice(0, 23)}${'A'.repeat(43)}`
    await assertExpired(await browser.post(actionOf(pageB), { ...form, csrf: mangled }))
  })

  it('a sealed cookie kept back opens nothing once its interaction is claimed', async () => {
    const { op } = await testOp()
    const browser = new Browser(op.handler)
    const { location, uid, sealed } = await begin(browser, { client_id: 'first' })
    // Pages rendered before the first POST: six unspent CSRF tokens.
    const pages: string[] = []
    for (let i = 0; i < 6; i++) pages.push(await (await browser.get(location)).text())
    for (let i = 0; i < 5; i++) {
      const wrong = await browser.post(actionOf(pages[i] ?? ''), {
        username: 'alice',
        password: `wrong-${i}`,
        csrf: csrfOf(pages[i] ?? ''),
      })
      assert.equal(wrong.status, i < 4 ? 401 : 429)
    }
    // The failed-attempt count cannot be reset by replaying the first cookie.
    const replay = withCookie(op.handler, uid, sealed)
    await assertExpired(await replay.get(location))
    await assertExpired(
      await replay.post(actionOf(pages[5] ?? ''), {
        username: 'alice',
        password: 'wonderland',
        csrf: csrfOf(pages[5] ?? ''),
      }),
    )
  })

  it('a completed interaction cannot issue a second code from a copy of its cookie', async () => {
    const { op } = await testOp()
    const browser = new Browser(op.handler)
    const { location, uid, sealed } = await begin(browser, { client_id: 'first' })
    const first = await (await browser.get(location)).text()
    const second = await (await browser.get(location)).text()
    const done = await browser.post(actionOf(first), {
      username: 'alice',
      password: 'wonderland',
      csrf: csrfOf(first),
    })
    assert.equal(done.status, 303)
    assert.ok(new URL(done.headers.get('location') ?? '').searchParams.get('code'))
    const replay = withCookie(op.handler, uid, sealed)
    await assertExpired(await replay.get(location))
    await assertExpired(
      await replay.post(actionOf(second), {
        username: 'alice',
        password: 'wonderland',
        csrf: csrfOf(second),
      }),
    )
  })
})

describe('sealed interaction: keys', () => {
  it('an OP with another secret cannot open the cookie; a rotation list still can', async () => {
    const a = await testOp({ secret: SECRET_A })
    const b = await testOp({ secret: SECRET_B })
    const rotated = await testOp({ secret: [SECRET_B, SECRET_A] })
    const { location, uid, sealed } = await begin(new Browser(a.op.handler))
    const before = b.store.size()
    await assertExpired(await withCookie(b.op.handler, uid, sealed).get(location))
    assert.equal(b.store.size(), before)
    const opened = await withCookie(rotated.op.handler, uid, sealed).get(location)
    assert.equal(opened.status, 200)
    assert.match(await opened.text(), /name="password"/)
  })

  it('refuses a secret shorter than 32 bytes', async () => {
    await assert.rejects(testOp({ secret: 'short' }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'config_invalid')
      assert.match(err.message, /"secret".*at least 32 bytes/)
      assert.ok(!err.message.includes('short'), 'the secret is not echoed')
      return true
    })
  })

  it('without a secret, keeps one sealing key in the store, never in the JWKS', async () => {
    const { op, store } = await testOp()
    const keys = await store.list('sealKey')
    assert.equal(keys.length, 1)
    const jwks = JSON.stringify(await (await op.handler(new Request(`${ISSUER}/jwks`))).json())
    assert.ok(!jwks.includes(keys[0]?.secret ?? '?'))
    assert.ok(!jwks.includes(keys[0]?.id ?? '?'))
  })
})

describe('sealed interaction: a record too large for a cookie', () => {
  it('is stored at once, the cookie holding the uid, and the login works as before', async () => {
    const { op, store } = await testOp()
    const browser = new Browser(op.handler)
    const before = store.size()
    const state = 's'.repeat(3_900)
    const { location, uid, sealed } = await begin(browser, { state, client_id: 'first' })
    assert.equal(sealed, uid)
    assert.ok(store.size() > before, 'stored')
    const page = await (await browser.get(location)).text()
    const done = await browser.post(actionOf(page), {
      username: 'alice',
      password: 'wonderland',
      csrf: csrfOf(page),
    })
    assert.equal(done.status, 303)
    const callback = new URL(done.headers.get('location') ?? '')
    assert.ok(callback.searchParams.get('code'))
    assert.equal(callback.searchParams.get('state'), state)
  })
})
