// Back-Channel Logout 1.0 on the OP, against a real receiver on loopback: the logout token
// (verified with jose through the OP's JWKS), who gets one (only the clients that used the
// ended session), the user's response never waiting on deliveries, bounded retries with a fresh
// token each time, timeouts, failures reported, and the admin logout of a user.
import assert from 'node:assert/strict'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, beforeEach, describe, it } from 'node:test'
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose'
import type { BackchannelFailure } from '../../src/op/config.ts'
import { createOp, type Op } from '../../src/op/create-op.ts'
import { createMemoryOpStore } from '../../src/op/store/memory.ts'
import { Browser } from './helpers/browser.ts'
import { ISSUER } from './helpers/op-setup.ts'
import { signedIn, signIn } from './helpers/sign-in.ts'

const CALLBACK = 'https://rp.example/cb'
const EVENT = 'http://schemas.openid.net/event/backchannel-logout'

/** What the receiver does with the next POSTs (a queue of statuses; then 200). */
let plan: (number | 'hang')[] = []
const received: { path: string; type: string | undefined; token: string }[] = []
/** How many POSTs the receiver has answered. */
let answered = 0
let receiver: ReturnType<typeof createServer>
let base: string
let op: Op
const failures: BackchannelFailure[] = []

function receive(req: IncomingMessage, res: ServerResponse): void {
  let body = ''
  req.on('data', (c) => {
    body += c
  })
  req.on('end', () => {
    received.push({
      path: req.url ?? '',
      type: req.headers['content-type'],
      token: new URLSearchParams(body).get('logout_token') ?? '',
    })
    const next = plan.shift() ?? 200
    if (next === 'hang') return
    answered++
    res.writeHead(next, { 'cache-control': 'no-store' }).end()
  })
}

before(async () => {
  receiver = createServer(receive)
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`
  const now = { value: Date.now() }
  op = await createOp({
    issuer: ISSUER,
    store: createMemoryOpStore({ clock: { now: () => now.value } }),
    logger: { warn: () => {}, error: () => {} },
    backchannelLogout: { timeoutMs: 300, attempts: 3, onFailure: (f) => failures.push(f) },
    clients: [
      {
        client_id: 'a',
        redirect_uris: [CALLBACK],
        skip_consent: true,
        backchannel_logout_uri: `${base}/a/backchannel?tenant=1`,
        post_logout_redirect_uris: ['https://rp.example/out'],
      },
      {
        client_id: 'b',
        redirect_uris: [CALLBACK],
        skip_consent: true,
        backchannel_logout_uri: `${base}/b`,
        backchannel_logout_session_required: true,
      },
      { client_id: 'quiet', redirect_uris: [CALLBACK], skip_consent: true },
    ],
    accounts: [{ username: 'alice', password: 'wonderland', claims: { name: 'Alice' } }],
  })
})

after(() => {
  receiver.closeAllConnections()
  receiver.close()
})

beforeEach(() => {
  plan = []
  received.length = 0
  failures.length = 0
  answered = 0
})

async function endSession(browser: Browser, idToken: string): Promise<Response> {
  const url = new URL(`${ISSUER}/logout`)
  url.searchParams.set('id_token_hint', idToken)
  return browser.get(url)
}

async function jwks() {
  const response = await op.handler(new Request(`${ISSUER}/jwks`))
  return createLocalJWKSet(await response.json())
}

describe('back-channel logout from the OP', () => {
  it('advertises it in discovery', () => {
    assert.equal(op.metadata().backchannel_logout_supported, true)
    assert.equal(op.metadata().backchannel_logout_session_supported, true)
  })

  it('POSTs a valid logout token to each client that used the ended session, and only those', async () => {
    const browser = new Browser(op.handler)
    const idToken = (await signIn(op, browser, 'a', CALLBACK)).id_token
    await signIn(op, browser, 'quiet', CALLBACK)
    await signIn(op, new Browser(op.handler), 'b', CALLBACK) // another browser's session
    const { sid, sub } = decodeJwt(idToken)
    assert.equal((await endSession(browser, idToken)).status, 200)
    await op.logoutDeliveriesSettled()
    assert.equal(
      received.length,
      1,
      'only client a: b was used in another session, quiet has no URI',
    )
    const [post] = received
    assert.equal(post?.path, '/a/backchannel?tenant=1')
    assert.equal(post?.type, 'application/x-www-form-urlencoded')
    const token = post?.token ?? ''
    assert.equal(decodeProtectedHeader(token).typ, 'logout+jwt')
    const { payload } = await jwtVerify(token, await jwks(), {
      issuer: ISSUER,
      audience: 'a',
      typ: 'logout+jwt',
      requiredClaims: ['iat', 'exp', 'jti', 'events'],
    })
    assert.equal(payload.sid, sid)
    assert.equal(payload.sub, sub)
    assert.deepEqual(payload.events, { [EVENT]: {} })
    assert.equal(payload.nonce, undefined)
    assert.ok((payload.exp as number) - (payload.iat as number) <= 120)
    assert.equal(failures.length, 0)
  })

  it('answers the user before a slow receiver has answered', async () => {
    plan = ['hang']
    const browser = new Browser(op.handler)
    const idToken = (await signIn(op, browser, 'a', CALLBACK)).id_token
    const response = await endSession(browser, idToken)
    assert.equal(response.status, 200)
    // The first attempt hangs for its whole timeout, so nothing can have been answered yet.
    assert.equal(answered, 0, 'the user’s answer did not wait for the delivery')
    await op.logoutDeliveriesSettled()
    assert.equal(received.length, 2, 'timed out once, then accepted on the retry')
    assert.equal(failures.length, 0)
  })

  it('retries a 5xx with a fresh token each time, and reports a receiver that never accepts', async () => {
    plan = [503, 500, 502]
    const browser = new Browser(op.handler)
    const idToken = (await signIn(op, browser, 'a', CALLBACK)).id_token
    await endSession(browser, idToken)
    await op.logoutDeliveriesSettled()
    assert.equal(received.length, 3)
    assert.equal(new Set(received.map((r) => decodeJwt(r.token).jti)).size, 3)
    assert.deepEqual(failures, [
      {
        clientId: 'a',
        uri: `${base}/a/backchannel?tenant=1`,
        attempts: 3,
        status: 502,
        reason: 'answered 502',
      },
    ])
  })

  it('does not retry a 4xx (it would not change), and reports it', async () => {
    plan = [400]
    const browser = new Browser(op.handler)
    const idToken = (await signIn(op, browser, 'a', CALLBACK)).id_token
    await endSession(browser, idToken)
    await op.logoutDeliveriesSettled()
    assert.equal(received.length, 1)
    assert.equal(failures[0]?.status, 400)
  })

  it('keeps serving while a receiver hangs on every attempt', async () => {
    plan = ['hang', 'hang', 'hang']
    const browser = new Browser(op.handler)
    const idToken = (await signIn(op, browser, 'a', CALLBACK)).id_token
    await endSession(browser, idToken)
    const discovery = await op.handler(new Request(`${ISSUER}/.well-known/openid-configuration`))
    assert.equal(discovery.status, 200)
    await op.logoutDeliveriesSettled()
    assert.equal(failures[0]?.reason, 'timed out')
    assert.equal(failures[0]?.attempts, 3)
  })

  it('tells the clients of the old session when a new login replaces it', async () => {
    const browser = new Browser(op.handler)
    const first = decodeJwt((await signIn(op, browser, 'a', CALLBACK)).id_token)
    // A forced new login in the same browser (prompt=login) replaces the OP session.
    const { authorizationUrl, actionOf, csrfOf } = await import('./helpers/browser.ts')
    const auth = await authorizationUrl(ISSUER, {
      client_id: 'a',
      redirect_uri: CALLBACK,
      prompt: 'login',
    })
    const page = await browser.get((await browser.get(auth.url)).headers.get('location') ?? '')
    const html = await page.text()
    await browser.post(actionOf(html), {
      username: 'alice',
      password: 'wonderland',
      csrf: csrfOf(html),
    })
    await op.logoutDeliveriesSettled()
    assert.equal(received.length, 1)
    assert.equal(decodeJwt(received[0]?.token ?? '').sid, first.sid)
  })

  it('logs a user out everywhere (admin): sessions end, clients hear sub without sid', async () => {
    const one = new Browser(op.handler)
    const two = new Browser(op.handler)
    const { sub } = decodeJwt((await signIn(op, one, 'a', CALLBACK)).id_token)
    await signIn(op, two, 'b', CALLBACK)
    await op.logoutUser(String(sub))
    assert.equal(await signedIn(op, one, 'a', CALLBACK), false)
    assert.equal(await signedIn(op, two, 'b', CALLBACK), false)
    await op.logoutDeliveriesSettled()
    // b requires sid, which a user-wide logout cannot give: only a is told.
    assert.equal(received.length, 1)
    const claims = decodeJwt(received[0]?.token ?? '')
    assert.equal(claims.aud, 'a')
    assert.equal(claims.sub, sub)
    assert.equal(claims.sid, undefined)
  })
})

describe('back-channel logout options', () => {
  for (const options of [
    { attempts: 0 },
    { attempts: 11 },
    { attempts: 1.5 },
    { timeoutMs: 50 },
    { timeoutMs: Number.POSITIVE_INFINITY },
  ]) {
    it(`refuses ${JSON.stringify(options)}`, async () => {
      await assert.rejects(
        createOp({
          issuer: ISSUER,
          logger: { warn: () => {}, error: () => {} },
          backchannelLogout: options,
        }),
        (err: Error & { code?: string }) => err.code === 'config_invalid',
      )
    })
  }
})

describe('back-channel logout client metadata', () => {
  for (const [uri, why] of [
    ['http://rp.example/bc', /https/],
    ['https://rp.example/bc#f', /fragment/],
    ['not a url', /absolute URL/],
  ] as const) {
    it(`refuses backchannel_logout_uri ${uri}`, async () => {
      await assert.rejects(
        createOp({
          issuer: ISSUER,
          clients: [{ client_id: 'x', redirect_uris: [CALLBACK], backchannel_logout_uri: uri }],
          logger: { warn: () => {}, error: () => {} },
        }),
        (err: Error & { code?: string }) => err.code === 'config_invalid' && why.test(err.message),
      )
    })
  }
})
