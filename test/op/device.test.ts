// The Device Authorization Grant on our OP (RFC 8628): the device authorization endpoint, the
// verification page (code entry, CSRF, guessing limit, single use), the login and the consent
// that always asks and shows the code, and the token endpoint's poll answers: pending,
// slow_down (interval +5 s for good), access_denied, expired_token, tokens once, a replay that
// revokes what was issued, another client's code. Hostile cases assert the exact status and error
// and that nothing was stored.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { decodeJwt } from 'jose'
import type { OpConfig } from '../../src/op/config.ts'
import { createOp } from '../../src/op/create-op.ts'
import { createMemoryOpStore } from '../../src/op/store/memory.ts'
import { Browser } from './helpers/browser.ts'

const ISSUER = 'http://127.0.0.1:9000'
const GRANT = 'urn:ietf:params:oauth:grant-type:device_code'
const SECRET = 'tv-secret-0123456789abcdef'

async function deviceOp(patch: Partial<OpConfig> = {}) {
  const now = { value: Date.now() }
  const clock = { now: () => now.value }
  const store = createMemoryOpStore({ clock })
  const op = await createOp({
    issuer: ISSUER,
    store,
    clock,
    logger: { warn: () => {}, error: () => {} },
    clients: [
      {
        client_id: 'cli',
        redirect_uris: [],
        grant_types: [GRANT, 'refresh_token'],
        client_name: 'Acme CLI',
        skip_consent: true,
      },
      {
        client_id: 'tv',
        client_secret: SECRET,
        redirect_uris: [],
        grant_types: [GRANT],
        client_name: 'Living-room TV',
      },
      { client_id: 'web', redirect_uris: ['https://app.example/cb'] },
    ],
    accounts: [{ username: 'alice', password: 'wonderland', claims: { name: 'Alice' } }],
    deviceFlow: { maxFailedEntries: 3 },
    ...patch,
  })
  const form = (path: string, body: Record<string, string>, headers: Record<string, string> = {}) =>
    op.handler(
      new Request(`${ISSUER}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams(body),
      }),
    )
  const authorize = async (clientId = 'cli', scope = 'openid profile offline_access') => {
    const response = await form('/device_authorization', { client_id: clientId, scope })
    assert.equal(response.status, 200, await response.clone().text())
    return (await response.json()) as {
      device_code: string
      user_code: string
      verification_uri: string
      verification_uri_complete: string
      expires_in: number
      interval: number
    }
  }
  const poll = async (deviceCode: string, clientId = 'cli') => {
    const response = await form('/token', {
      grant_type: GRANT,
      device_code: deviceCode,
      client_id: clientId,
    })
    return { status: response.status, body: (await response.json()) as Record<string, unknown> }
  }
  return { op, store, now, form, authorize, poll }
}

const hidden = (html: string, name: string) =>
  new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1] ?? ''
const action = (html: string) => /<form method="post" action="([^"]+)"/.exec(html)?.[1] ?? ''

/** A person at the verification page: enters `code`, signs in if asked, answers the consent. */
async function enterCode(
  browser: Browser,
  code: string,
  decision: 'allow' | 'deny' | 'stop' = 'allow',
): Promise<{ consent: string; last: Response; lastHtml: string }> {
  const entry = await browser.get(`${ISSUER}/device`)
  const entryHtml = await entry.text()
  let response = await browser.post(`${ISSUER}/device`, {
    csrf: hidden(entryHtml, 'csrf'),
    user_code: code,
  })
  if (response.status === 303) response = await browser.get(response.headers.get('location') ?? '')
  let html = await response.text()
  if (html.includes('name="password"')) {
    response = await browser.post(action(html), {
      csrf: hidden(html, 'csrf'),
      username: 'alice',
      password: 'wonderland',
    })
    html = await response.text()
  }
  const consent = html
  if (decision === 'stop') return { consent, last: response, lastHtml: html }
  response = await browser.post(action(html), { csrf: hidden(html, 'csrf'), decision })
  return { consent, last: response, lastHtml: await response.text() }
}

describe('OP device authorization endpoint (RFC 8628 §3.1, §3.2)', () => {
  it('answers codes, URIs, lifetime and interval; advertises itself in discovery', async () => {
    const { op, authorize } = await deviceOp()
    const started = await authorize()
    assert.match(started.device_code, /^[A-Za-z0-9_-]{43}$/)
    assert.match(started.user_code, /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/)
    assert.equal(started.verification_uri, `${ISSUER}/device`)
    assert.equal(
      started.verification_uri_complete,
      `${ISSUER}/device?user_code=${started.user_code}`,
    )
    assert.equal(started.expires_in, 600)
    assert.equal(started.interval, 5)
    const meta = op.metadata()
    assert.equal(meta.device_authorization_endpoint, `${ISSUER}/device_authorization`)
    assert.ok((meta.grant_types_supported as string[]).includes(GRANT))
  })

  it('authenticates a confidential client as registered', async () => {
    const { form } = await deviceOp()
    const basic = `Basic ${btoa(`tv:${SECRET}`)}`
    const ok = await form('/device_authorization', { scope: 'openid' }, { authorization: basic })
    assert.equal(ok.status, 200)
    const noSecret = await form('/device_authorization', { client_id: 'tv', scope: 'openid' })
    assert.equal(noSecret.status, 401)
    assert.equal(((await noSecret.json()) as { error: string }).error, 'invalid_client')
  })

  const refusals: { name: string; body: Record<string, string>; status: number; error: string }[] =
    [
      {
        name: 'a client not registered for the grant',
        body: { client_id: 'web', scope: 'openid' },
        status: 400,
        error: 'unauthorized_client',
      },
      {
        name: 'an unknown client',
        body: { client_id: 'nobody', scope: 'openid' },
        status: 401,
        error: 'invalid_client',
      },
      {
        name: 'an unknown scope',
        body: { client_id: 'cli', scope: 'openid admin' },
        status: 400,
        error: 'invalid_scope',
      },
      {
        name: 'no scope',
        body: { client_id: 'cli' },
        status: 400,
        error: 'invalid_scope',
      },
      {
        name: 'a repeated parameter',
        body: { client_id: 'cli', scope: 'openid' },
        status: 400,
        error: 'invalid_request',
      },
    ]
  for (const row of refusals) {
    it(`refuses ${row.name}: ${row.status} ${row.error}, nothing stored`, async () => {
      const { op, store } = await deviceOp()
      const before = store.size()
      const body = new URLSearchParams(row.body)
      if (row.name === 'a repeated parameter') body.append('scope', 'profile')
      const response = await op.handler(
        new Request(`${ISSUER}/device_authorization`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body,
        }),
      )
      assert.equal(response.status, row.status)
      const answer = (await response.json()) as { error: string; error_description: string }
      assert.equal(answer.error, row.error)
      assert.ok(!answer.error_description.includes('admin'), 'nothing echoed')
      assert.equal(store.size(), before)
    })
  }
})

describe('OP device flow: polling', () => {
  it('pending, then slow_down when polled too soon, the interval 5 s longer for good', async () => {
    const { authorize, poll, now } = await deviceOp()
    const started = await authorize()
    const first = await poll(started.device_code)
    assert.deepEqual([first.status, first.body.error], [400, 'authorization_pending'])
    const tooSoon = await poll(started.device_code)
    assert.deepEqual([tooSoon.status, tooSoon.body.error], [400, 'slow_down'])
    now.value += 6000 // the old interval: still too soon for the new one (10 s)
    assert.equal((await poll(started.device_code)).body.error, 'slow_down')
    now.value += 15_000 // the interval is 15 s now
    assert.equal((await poll(started.device_code)).body.error, 'authorization_pending')
  })
})

describe('OP device flow: polling and the token failure limit', () => {
  it('never counts authorization_pending or slow_down, only a guessed device_code', async () => {
    const { authorize, poll, now } = await deviceOp({
      rateLimits: { tokenFailuresPerClient: { limit: 2, windowSeconds: 600 } },
    })
    const started = await authorize()
    for (let i = 0; i < 6; i++) {
      const polled = await poll(started.device_code)
      assert.equal(polled.status, 400, `poll ${i + 1}`)
      assert.ok(['authorization_pending', 'slow_down'].includes(String(polled.body.error)))
      now.value += 1000
    }
    for (let i = 0; i < 2; i++)
      assert.equal((await poll('guessed-device-code')).body.error, 'invalid_grant')
    const refused = await poll(started.device_code)
    assert.deepEqual([refused.status, refused.body.error], [429, 'temporarily_unavailable'])
  })
})

describe('OP device flow: a person connects a device', () => {
  it('code typed in lower case without the dash; login; consent shows the code; tokens once', async () => {
    const { op, authorize, poll, now } = await deviceOp()
    const started = await authorize()
    const browser = new Browser(op.handler)
    const typed = started.user_code.replace('-', '').toLowerCase()
    const { consent, last, lastHtml } = await enterCode(browser, typed)
    assert.match(consent, /Allow access\?/)
    assert.ok(consent.includes(started.user_code), 'the consent shows the code to compare')
    assert.ok(consent.includes('Acme CLI'))
    assert.equal(last.status, 200)
    assert.match(lastHtml, /Device connected/)
    now.value += 5000
    const tokens = await poll(started.device_code)
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body))
    assert.equal(tokens.body.token_type, 'Bearer')
    assert.equal(tokens.body.scope, 'openid profile offline_access')
    assert.equal(typeof tokens.body.refresh_token, 'string')
    const idToken = decodeJwt(String(tokens.body.id_token))
    assert.equal(idToken.aud, 'cli')
    assert.equal(idToken.name, 'Alice')
    assert.equal(idToken.nonce, undefined)

    // The same device code again: a replay. Refused, and what it issued is revoked.
    now.value += 5000
    const replay = await poll(started.device_code)
    assert.deepEqual([replay.status, replay.body.error], [400, 'invalid_grant'])
    const userinfo = await op.handler(
      new Request(`${ISSUER}/userinfo`, {
        headers: { authorization: `Bearer ${tokens.body.access_token}` },
      }),
    )
    assert.equal(userinfo.status, 401, 'the access token of the first redemption is revoked')
    const refreshed = await op.handler(
      new Request(`${ISSUER}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: String(tokens.body.refresh_token),
          client_id: 'cli',
        }),
      }),
    )
    assert.equal(refreshed.status, 400)
  })

  it('the consent is asked even of a skip_consent client signed in already (RFC 8628 §5.4)', async () => {
    const { op, authorize } = await deviceOp()
    const browser = new Browser(op.handler)
    await enterCode(browser, (await authorize()).user_code)
    const second = await authorize()
    const { consent } = await enterCode(browser, second.user_code, 'stop')
    assert.ok(!consent.includes('name="password"'), 'signed in: no password asked')
    assert.match(consent, /Allow access\?/)
  })

  it('deny: the poll hears access_denied, then nothing', async () => {
    const { op, authorize, poll } = await deviceOp()
    const started = await authorize()
    const { lastHtml } = await enterCode(new Browser(op.handler), started.user_code, 'deny')
    assert.match(lastHtml, /Access denied/)
    const denied = await poll(started.device_code)
    assert.deepEqual([denied.status, denied.body.error], [400, 'access_denied'])
  })

  it('expired_token past expires_in; a code typed after that is refused', async () => {
    const { op, authorize, poll, now } = await deviceOp()
    const started = await authorize()
    now.value += 601_000
    const late = await poll(started.device_code)
    assert.deepEqual([late.status, late.body.error], [400, 'expired_token'])
    const { consent } = await enterCode(new Browser(op.handler), started.user_code, 'stop')
    assert.match(consent, /That code is not valid/)
  })

  it('another client cannot redeem the device code; an unknown one is invalid_grant', async () => {
    const { op, authorize, form, now } = await deviceOp()
    const started = await authorize()
    await enterCode(new Browser(op.handler), started.user_code)
    now.value += 5000
    const stolen = await form(
      '/token',
      { grant_type: GRANT, device_code: started.device_code },
      { authorization: `Basic ${btoa(`tv:${SECRET}`)}` },
    )
    assert.equal(stolen.status, 400)
    assert.equal(((await stolen.json()) as { error: string }).error, 'invalid_grant')
    const unknown = await form('/token', {
      grant_type: GRANT,
      device_code: 'x'.repeat(43),
      client_id: 'cli',
    })
    assert.equal(((await unknown.json()) as { error: string }).error, 'invalid_grant')
    const missing = await form('/token', { grant_type: GRANT, client_id: 'cli' })
    assert.equal(((await missing.json()) as { error: string }).error, 'invalid_request')
    const notRegistered = await form('/token', {
      grant_type: GRANT,
      device_code: started.device_code,
      client_id: 'web',
    })
    assert.equal(((await notRegistered.json()) as { error: string }).error, 'unauthorized_client')
  })

  it('a code is entered once: a second browser gets the same "not valid" as a wrong code', async () => {
    const { op, authorize } = await deviceOp()
    const started = await authorize()
    await enterCode(new Browser(op.handler), started.user_code, 'stop')
    const { consent: again } = await enterCode(
      new Browser(op.handler),
      started.user_code,
      undefined,
    )
    const { consent: wrong } = await enterCode(new Browser(op.handler), 'BBBB-BBBB', 'stop')
    assert.match(again, /That code is not valid/)
    assert.equal(again.replace(/value="[^"]*"/g, ''), wrong.replace(/value="[^"]*"/g, ''))
  })

  it('limits wrong codes per client address: 429 with Retry-After, even for a right code', async () => {
    const { op, authorize } = await deviceOp()
    const started = await authorize()
    const browser = new Browser(op.handler)
    for (let i = 0; i < 3; i++) {
      const { last } = await enterCode(browser, 'BCDF-GHJK', 'stop')
      assert.equal(last.status, 400, `wrong code ${i + 1}`)
    }
    const { last, consent } = await enterCode(browser, started.user_code, 'stop')
    assert.equal(last.status, 429)
    // 3 per 600 s refill one every 200 s (the GCRA rule of deviceEntryPerIp)
    assert.equal(last.headers.get('retry-after'), '200')
    assert.match(consent, /Too many wrong codes/)
  })

  it('refuses a POST without its CSRF cookie (another site submitting the form)', async () => {
    const { op, authorize, store } = await deviceOp()
    const started = await authorize()
    const before = store.size()
    const response = await op.handler(
      new Request(`${ISSUER}/device`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ csrf: 'forged', user_code: started.user_code }),
      }),
    )
    assert.equal(response.status, 400)
    assert.match(await response.text(), /This page expired/)
    assert.equal(store.size(), before, 'no interaction started, the code not spent')
    const { consent } = await enterCode(new Browser(op.handler), started.user_code, 'stop')
    assert.match(consent, /Allow access\?/, 'the code still works for the real person')
  })

  it('fills in the code of verification_uri_complete (escaped), and never a malformed one', async () => {
    const { op, authorize } = await deviceOp()
    const started = await authorize()
    const page = await (await op.handler(new Request(started.verification_uri_complete))).text()
    assert.ok(page.includes(`value="${started.user_code}"`))
    const hostile = await (
      await op.handler(new Request(`${ISSUER}/device?user_code=%22%3E%3Cscript%3E`))
    ).text()
    assert.ok(!hostile.includes('<script>'))
    assert.ok(hostile.includes('name="user_code"'))
  })

  it('with --auto-login the authorization is granted at once', async () => {
    const { authorize, poll } = await deviceOp({ dangerouslyAutoLogin: 'alice' })
    const started = await authorize('cli', 'openid profile')
    const tokens = await poll(started.device_code)
    assert.equal(tokens.status, 200)
    assert.equal(decodeJwt(String(tokens.body.id_token)).name, 'Alice')
  })

  it('refuses a bad deviceFlow option or ttl at start', async () => {
    for (const patch of [
      { deviceFlow: { interval: 0 } },
      { deviceFlow: { interval: 61 } },
      { deviceFlow: { maxFailedEntries: 0 } },
      { ttl: { deviceCode: 1801 } },
    ])
      await assert.rejects(deviceOp(patch as Partial<OpConfig>), /deviceFlow|deviceCode/)
  })
})
