// The OP's rate limits (src/op/limits.ts) through its forms and endpoints: password spraying per
// client address, credential stuffing per username (a known browser still signs in), a success
// forgetting the username's failures, the token endpoint per client, limits shared by two OP
// instances over one store, and X-Forwarded-For believed only from trusted proxies, over real
// HTTP. Time moves on an injected clock.
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, describe, it } from 'node:test'
import { opListener } from '../../src/node/index.ts'
import type { OpConfig } from '../../src/op/config.ts'
import { createOp, type Op } from '../../src/op/create-op.ts'
import { createMemoryOpStore } from '../../src/op/store/memory.ts'
import { actionOf, authorizationUrl, Browser, csrfOf } from './helpers/browser.ts'

const ISSUER = 'http://127.0.0.1:9100'
const CALLBACK = 'http://127.0.0.1:9101/callback'
const SECRET = 'svc-secret-0123456789abcdefghijklmnopqrstuv'

interface World {
  readonly op: Op
  readonly store: ReturnType<typeof createMemoryOpStore>
  readonly clock: { now(): number; advance(seconds: number): void }
  /** Password checks the account backend ran. */
  readonly checks: { count: number }
  readonly warnings: string[]
}

async function world(patch: Partial<OpConfig> = {}, shared?: World): Promise<World> {
  let now = Date.UTC(2030, 0, 1)
  const clock = shared?.clock ?? {
    now: () => now,
    advance(seconds: number) {
      now += seconds * 1000
    },
  }
  const store = shared?.store ?? createMemoryOpStore({ clock })
  const checks = { count: 0 }
  const warnings: string[] = []
  const op = await createOp({
    issuer: patch.issuer ?? ISSUER,
    store,
    clock,
    logger: { warn: (m) => warnings.push(m), error() {} },
    clients: [
      { client_id: 'app', redirect_uris: [CALLBACK], skip_consent: true },
      {
        client_id: 'svc',
        client_secret: SECRET,
        redirect_uris: [],
        grant_types: ['client_credentials'],
      },
      {
        client_id: 'svc2',
        client_secret: SECRET,
        redirect_uris: [],
        grant_types: ['client_credentials'],
      },
    ],
    authenticate: async (username, password) => {
      checks.count++
      return password === `${username}-password` ? `sub-${username}` : null
    },
    findAccount: async (sub) => ({ sub, claims: {} }),
    ...patch,
  })
  return { op, store, clock, checks, warnings }
}

/** A browser whose requests come from `address`. */
function browserAt(op: Op, address: string): Browser {
  return new Browser((request) => op.handler(request, { remoteAddress: address }))
}

/** One password attempt in a fresh interaction: the response to the login POST. */
async function attempt(browser: Browser, username: string, password: string): Promise<Response> {
  // prompt=login: the form even where the browser is signed in already
  const auth = await authorizationUrl(ISSUER, {
    client_id: 'app',
    redirect_uri: CALLBACK,
    prompt: 'login',
  })
  const start = await browser.get(auth.url)
  const page = await browser.get(start.headers.get('location') ?? '')
  const html = await page.text()
  return browser.post(actionOf(html), { username, password, csrf: csrfOf(html) })
}

const signedIn = (response: Response) =>
  response.status === 303 && (response.headers.get('location') ?? '').startsWith(CALLBACK)

describe('OP rate limits: password attempts', () => {
  it('slows spraying from one address across usernames: 429 with Retry-After, no password checked', async () => {
    const { op, checks, clock, warnings, store } = await world()
    const attacker = browserAt(op, '198.51.100.7')
    for (let i = 0; i < 20; i++) {
      const response = await attempt(attacker, `user${i}`, 'Summer2030!')
      assert.equal(response.status, 401, `attempt ${i + 1}`)
    }
    const checked = checks.count
    const stored = store.size()
    const refused = await attempt(attacker, 'bob', 'bob-password')
    assert.equal(
      store.size(),
      stored,
      'a refused attempt stores nothing (not even its interaction)',
    )
    assert.equal(refused.status, 429)
    assert.equal(refused.headers.get('retry-after'), '30') // 20 per 600 s: one every 30 s
    assert.match(await refused.text(), /Too many failed sign-in attempts\. Try again in 30 seconds/)
    assert.equal(checks.count, checked, 'a refused attempt costs no password check')
    assert.ok(warnings.some((w) => /passwordPerIp reached for 198\.51\.100\.7/.test(w)))
    assert.ok(!warnings.some((w) => w.includes('bob')), 'no username is logged')
    // another address is not affected
    assert.ok(signedIn(await attempt(browserAt(op, '203.0.113.9'), 'alice', 'alice-password')))
    // one emission interval later, exactly one more attempt passes
    clock.advance(30)
    assert.ok(signedIn(await attempt(attacker, 'bob', 'bob-password')))
    assert.equal((await attempt(attacker, 'carol', 'wrong')).status, 401)
    assert.equal((await attempt(attacker, 'carol', 'carol-password')).status, 429)
  })

  it('counts an IPv6 client by its /64', async () => {
    const { op } = await world({ rateLimits: { passwordPerIp: { limit: 2, windowSeconds: 60 } } })
    assert.equal((await attempt(browserAt(op, '2001:db8:1:2::1'), 'a', 'x')).status, 401)
    assert.equal((await attempt(browserAt(op, '2001:db8:1:2::ffff'), 'b', 'x')).status, 401)
    assert.equal((await attempt(browserAt(op, '2001:db8:1:2:aa::1'), 'c', 'x')).status, 429)
    assert.equal((await attempt(browserAt(op, '2001:db8:1:3::1'), 'c', 'x')).status, 401)
  })

  it('slows stuffing one username from many addresses, but its known browser still signs in', async () => {
    const { op, clock } = await world()
    const home = browserAt(op, '192.0.2.10')
    assert.ok(signedIn(await attempt(home, 'alice', 'alice-password')), 'alice signs in at home')
    for (let i = 0; i < 10; i++) {
      const response = await attempt(browserAt(op, `198.51.100.${i + 1}`), 'Alice', `guess${i}`)
      assert.equal(response.status, 401, `guess ${i + 1}`)
    }
    const blocked = await attempt(browserAt(op, '198.51.100.200'), ' alice ', 'alice-password')
    assert.equal(blocked.status, 429, 'the username is limited, however it is spelled')
    assert.equal(blocked.headers.get('retry-after'), '90') // 10 per 900 s
    assert.ok(signedIn(await attempt(home, 'alice', 'alice-password')), 'the known browser is not')
    // the lock-out of new browsers ends one interval after the attack pauses
    clock.advance(90)
    assert.ok(signedIn(await attempt(browserAt(op, '203.0.113.50'), 'alice', 'alice-password')))
  })

  it('forgets the failures of a username once its password is given', async () => {
    const { op } = await world({
      rateLimits: { passwordPerUsername: { limit: 3, windowSeconds: 600 } },
    })
    const at = (i: number) => browserAt(op, `198.51.100.${i}`)
    for (let i = 0; i < 2; i++) assert.equal((await attempt(at(i), 'dave', 'no')).status, 401)
    assert.ok(signedIn(await attempt(at(9), 'dave', 'dave-password')))
    for (let i = 0; i < 3; i++) assert.equal((await attempt(at(20 + i), 'dave', 'no')).status, 401)
    assert.equal((await attempt(at(30), 'dave', 'dave-password')).status, 429)
  })

  it("are shared by OP instances over one store, and switched off only by 'off-unsafe'", async () => {
    const first = await world({ rateLimits: { passwordPerIp: { limit: 2, windowSeconds: 60 } } })
    const second = await world(
      { rateLimits: { passwordPerIp: { limit: 2, windowSeconds: 60 } } },
      first,
    )
    assert.equal((await attempt(browserAt(first.op, '198.51.100.1'), 'a', 'x')).status, 401)
    assert.equal((await attempt(browserAt(second.op, '198.51.100.1'), 'b', 'x')).status, 401)
    assert.equal((await attempt(browserAt(first.op, '198.51.100.1'), 'c', 'x')).status, 429)
    assert.equal((await attempt(browserAt(second.op, '198.51.100.1'), 'c', 'x')).status, 429)
    const open = await world({
      rateLimits: { passwordPerIp: 'off-unsafe', passwordPerUsername: 'off-unsafe' },
    })
    for (let i = 0; i < 25; i++)
      assert.equal((await attempt(browserAt(open.op, '198.51.100.1'), 'a', `x${i}`)).status, 401)
  })

  it('refuses a malformed rule at start', async () => {
    for (const rule of [
      { limit: 0, windowSeconds: 60 },
      { limit: 1.5, windowSeconds: 60 },
      { limit: 5, windowSeconds: 0 },
      'off',
    ]) {
      await assert.rejects(
        world({ rateLimits: { tokenFailuresPerClient: rule as never } }),
        (err: Error & { code?: string }) =>
          err.code === 'config_invalid' && /rateLimits\.tokenFailuresPerClient/.test(err.message),
      )
    }
    await assert.rejects(world({ trustedProxies: ['10.0.0.0/33'] }), /trustedProxies/)
  })
})

describe('OP rate limits: stored interactions', () => {
  it('bounds the one stored path of /authorize (a request too large to seal) per address', async () => {
    const { op, store } = await world({
      rateLimits: { interactionsPerIp: { limit: 2, windowSeconds: 60 } },
    })
    const big = async (address: string) => {
      const auth = await authorizationUrl(ISSUER, {
        client_id: 'app',
        redirect_uri: CALLBACK,
        state: 's'.repeat(3_900),
      })
      return browserAt(op, address).get(auth.url)
    }
    assert.equal((await big('198.51.100.1')).status, 303)
    assert.equal((await big('198.51.100.1')).status, 303)
    const before = store.size()
    const refused = await big('198.51.100.1')
    assert.equal(refused.status, 429)
    assert.equal(refused.headers.get('retry-after'), '30')
    assert.equal(store.size(), before, 'nothing stored')
    assert.ok(!(await refused.text()).includes('sss'), 'nothing echoed')
    assert.equal((await big('198.51.100.2')).status, 303, 'another address')
    // a request small enough to seal stores nothing and is not counted
    const auth = await authorizationUrl(ISSUER, { client_id: 'app', redirect_uri: CALLBACK })
    assert.equal((await browserAt(op, '198.51.100.1').get(auth.url)).status, 303)
  })
})

describe('OP rate limits: token endpoint', () => {
  const token = (
    op: Op,
    clientId: string,
    body: string,
    options: { secret?: string; address?: string } = {},
  ) =>
    op.handler(
      new Request(`${ISSUER}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...(options.secret === undefined && clientId === 'app'
            ? {}
            : { authorization: `Basic ${btoa(`${clientId}:${options.secret ?? SECRET}`)}` }),
        },
        body,
      }),
      { remoteAddress: options.address ?? '198.51.100.1' },
    )
  const GOOD = 'grant_type=client_credentials'
  const BAD = 'grant_type=refresh_token&refresh_token=guessed'

  it('slows a client whose requests keep failing: 429 temporarily_unavailable, Retry-After', async () => {
    const { op, clock, store } = await world({
      rateLimits: { tokenFailuresPerClient: { limit: 3, windowSeconds: 60 } },
    })
    for (let i = 0; i < 10; i++)
      assert.equal((await token(op, 'svc', GOOD)).status, 200, 'successes never count')
    // failed client authentication does not spend the client's budget
    assert.equal((await token(op, 'svc', GOOD, { secret: `${SECRET}x` })).status, 401)
    for (let i = 0; i < 3; i++) assert.equal((await token(op, 'svc', BAD)).status, 400)
    const before = store.size()
    const refused = await token(op, 'svc', GOOD)
    assert.equal(refused.status, 429)
    assert.equal(refused.headers.get('retry-after'), '20')
    assert.equal(refused.headers.get('cache-control'), 'no-store')
    const body = (await refused.json()) as { error: string; error_description: string }
    assert.equal(body.error, 'temporarily_unavailable')
    assert.ok(!JSON.stringify(body).includes(SECRET))
    assert.equal(store.size(), before, 'nothing stored')
    assert.equal((await token(op, 'svc2', GOOD)).status, 200, 'another client has its own budget')
    clock.advance(20)
    assert.equal((await token(op, 'svc', GOOD)).status, 200)
    assert.equal((await token(op, 'svc', BAD)).status, 400)
    assert.equal((await token(op, 'svc', GOOD)).status, 429)
  })

  it("counts a public client's failures per address: nobody can exhaust it for everyone", async () => {
    const { op } = await world({
      rateLimits: { tokenFailuresPerClient: { limit: 2, windowSeconds: 60 } },
    })
    const code =
      'grant_type=authorization_code&client_id=app&code=guessed&code_verifier=' +
      'v'.repeat(43) +
      `&redirect_uri=${encodeURIComponent(CALLBACK)}`
    for (let i = 0; i < 2; i++)
      assert.equal((await token(op, 'app', code, { address: '203.0.113.66' })).status, 400)
    assert.equal((await token(op, 'app', code, { address: '203.0.113.66' })).status, 429)
    const elsewhere = await token(op, 'app', code, { address: '198.51.100.20' })
    assert.equal(elsewhere.status, 400, 'another address still reaches the grant')
    assert.equal(((await elsewhere.json()) as { error: string }).error, 'invalid_grant')
  })
})

describe('OP rate limits: the client address over real HTTP', () => {
  const servers: Server[] = []
  after(() => {
    for (const server of servers) server.close()
  })

  async function serve(patch: Partial<OpConfig>): Promise<{ issuer: string }> {
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    servers.push(server)
    const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const { op } = await world({
      issuer,
      ...patch,
      rateLimits: { passwordPerIp: { limit: 2, windowSeconds: 60 } },
    })
    server.on('request', opListener(op))
    return { issuer }
  }

  /** A password attempt over HTTP with the given X-Forwarded-For; its login POST status. */
  async function httpAttempt(
    issuer: string,
    forwardedFor: string,
    username: string,
  ): Promise<number> {
    const jar = new Map<string, string>()
    const send = async (url: string, init: RequestInit = {}) => {
      const headers = new Headers(init.headers)
      headers.set('x-forwarded-for', forwardedFor)
      if (jar.size > 0) headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '))
      const response = await fetch(url, { ...init, headers, redirect: 'manual' })
      for (const line of response.headers.getSetCookie()) {
        const [pair = ''] = line.split(';')
        const eq = pair.indexOf('=')
        jar.set(pair.slice(0, eq), pair.slice(eq + 1))
      }
      return response
    }
    const auth = new URL(`${issuer}/authorize`)
    for (const [k, v] of Object.entries({
      response_type: 'code',
      client_id: 'app',
      redirect_uri: CALLBACK,
      scope: 'openid',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    }))
      auth.searchParams.set(k, v)
    const start = await send(auth.href)
    const page = await send(new URL(start.headers.get('location') ?? '', issuer).href)
    const html = await page.text()
    const posted = await send(new URL(actionOf(html), issuer).href, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username, password: 'wrong', csrf: csrfOf(html) }).toString(),
    })
    return posted.status
  }

  it('ignores a forged X-Forwarded-For from a peer that is not a trusted proxy', async () => {
    const { issuer } = await serve({})
    assert.equal(await httpAttempt(issuer, '203.0.113.1', 'a'), 401)
    assert.equal(await httpAttempt(issuer, '203.0.113.2', 'b'), 401)
    assert.equal(await httpAttempt(issuer, '203.0.113.3', 'c'), 429, 'all from 127.0.0.1')
  })

  it('reads X-Forwarded-For from a trusted proxy, right to left', async () => {
    const { issuer } = await serve({ trustedProxies: ['loopback'] })
    assert.equal(await httpAttempt(issuer, '203.0.113.1', 'a'), 401)
    assert.equal(await httpAttempt(issuer, '203.0.113.1', 'b'), 401)
    assert.equal(await httpAttempt(issuer, '203.0.113.1', 'c'), 429)
    // the client's own (forged) entries left of the proxy's are not believed
    assert.equal(await httpAttempt(issuer, '198.51.100.9, 203.0.113.1', 'd'), 429)
    assert.equal(await httpAttempt(issuer, '203.0.113.2', 'e'), 401, 'another client')
  })
})
