// `authkestra dev-idp --scenario NAME` against our own engine: each scenario makes the dev IdP
// misbehave in one way, and the engine must refuse the login with that scenario's stable code
// (or, for rotate-keys, keep signing users in). The dev IdP runs in this process on loopback,
// exactly as the command starts it; the engine is driven through its Web handler.
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { type CliIo, type RunningDevIdp, startDevIdp } from '../../src/dev-idp/cli.ts'
import { SCENARIOS, type ScenarioName } from '../../src/dev-idp/scenarios.ts'
import { createAuthkestra } from '../../src/index.ts'
import { oidc } from '../../src/providers/oidc.ts'
import { AppBrowser } from '../engine/helpers/setup.ts'

const APP = 'http://localhost:3000'

interface Run {
  readonly idp: RunningDevIdp
  readonly out: string[]
  readonly requests: string[]
}

async function startIdp(args: string[]): Promise<Run> {
  const out: string[] = []
  const io: CliIo = { out: (l) => out.push(l), err: (l) => out.push(l) }
  const idp = await startDevIdp(['--port', '0', '--auto-login', 'alice', '--log', ...args], io)
  assert.ok(idp)
  return { idp, out, requests: out }
}

function engine(
  issuer: string,
  options: { timeoutMs?: number; clock?: { now(): number }; trustedAudiences?: string[] } = {},
) {
  const warnings: string[] = []
  const jwksFetches: string[] = []
  const auth = createAuthkestra({
    providers: [
      oidc({
        id: 'authkestra',
        issuer,
        clientId: 'demo-app',
        redirectUri: `${APP}/auth/callback/authkestra`,
        ...(options.trustedAudiences ? { trustedAudiences: options.trustedAudiences } : {}),
      }),
    ],
    secret: 'scenario-test-secret-that-is-long-enough-0123',
    session: {},
    logger: {
      debug: () => {},
      warn: (m: string) => warnings.push(m),
      error: (m: string) => warnings.push(m),
    },
    ...(options.clock ? { clock: options.clock } : {}),
    flowOptions: {
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
      fetch: (input, init) => {
        const url = new URL(input instanceof Request ? input.url : String(input))
        if (url.pathname.endsWith('/jwks')) jwksFetches.push(url.pathname)
        return fetch(input, init)
      },
    },
  })
  return { auth, warnings, jwksFetches }
}

/** One login through the engine: start, the dev IdP's answer, the engine's callback (JSON). */
async function login(
  browser: AppBrowser,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const start = await browser.request('/auth/login/authkestra')
  assert.equal(start.status, 302)
  const atIdp = await fetch(start.headers.get('location') ?? '', { redirect: 'manual' })
  const callback = new URL(atIdp.headers.get('location') ?? '')
  assert.equal(callback.origin + callback.pathname, `${APP}/auth/callback/authkestra`)
  const done = await browser.request(callback.pathname + callback.search, {
    headers: { accept: 'application/json' },
  })
  const text = await done.text()
  return { status: done.status, body: text.startsWith('{') ? JSON.parse(text) : { text } }
}

/** Rows: the scenario, the engine's status and code, and the cause the engine must log. */
const REFUSED: { scenario: ScenarioName; status: number; error: string; cause?: RegExp }[] = [
  { scenario: 'wrong-iss', status: 400, error: 'issuer_mismatch' },
  { scenario: 'missing-iss', status: 400, error: 'issuer_missing' },
  { scenario: 'access-denied', status: 403, error: 'authorization_error', cause: /access_denied/ },
  {
    scenario: 'login-required',
    status: 403,
    error: 'authorization_error',
    cause: /login_required/,
  },
  { scenario: 'expired-id-token', status: 400, error: 'id_token_expired' },
  { scenario: 'wrong-nonce', status: 400, error: 'id_token_nonce_mismatch' },
  { scenario: 'wrong-audience', status: 400, error: 'id_token_claim_invalid', cause: /aud/ },
  { scenario: 'extra-audience', status: 400, error: 'id_token_claim_invalid', cause: /aud/ },
  { scenario: 'bad-signature', status: 400, error: 'id_token_signature_invalid' },
  { scenario: 'unknown-key', status: 400, error: 'id_token_key_not_found' },
  { scenario: 'token-error', status: 400, error: 'token_error', cause: /server_error/ },
  { scenario: 'token-outage', status: 502, error: 'provider_bad_response', cause: /503/ },
]

describe('dev-idp --scenario, refused by the engine with its stable code', () => {
  const running: RunningDevIdp[] = []
  after(async () => {
    for (const idp of running) await idp.close()
  })

  it('every scenario has a row in these tests', () => {
    const tested = new Set<string>([...REFUSED.map((r) => r.scenario), 'rotate-keys', 'slow-token'])
    assert.deepEqual(Object.keys(SCENARIOS).sort(), [...tested].sort())
  })

  for (const row of REFUSED) {
    it(`${row.scenario} → ${row.status} ${row.error}`, async () => {
      const { idp, out } = await startIdp(['--scenario', row.scenario])
      running.push(idp)
      assert.ok(out.some((l) => l.startsWith(`  scenario ${row.scenario}: `)))
      const { auth, warnings } = engine(idp.issuer)
      const browser = new AppBrowser(auth.handler)
      const result = await login(browser)
      assert.equal(result.status, row.status, JSON.stringify(result.body))
      assert.equal(result.body.error, row.error)
      // No session came of it.
      const session = await browser.request('/auth/session', {
        headers: { accept: 'application/json' },
      })
      assert.equal(session.status, 401)
      assert.equal(warnings.length, 1, warnings.join('\n'))
      assert.match(warnings[0] ?? '', new RegExp(row.error))
      if (row.cause) assert.match(warnings[0] ?? '', row.cause)
    })
  }

  it('without a scenario the same login succeeds (the rows above fail for the scenario alone)', async () => {
    const { idp } = await startIdp([])
    running.push(idp)
    const { auth, warnings } = engine(idp.issuer)
    const browser = new AppBrowser(auth.handler)
    const result = await login(browser)
    assert.equal(result.status, 302, JSON.stringify(result.body))
    const session = await browser.request('/auth/session', {
      headers: { accept: 'application/json' },
    })
    assert.equal(session.status, 200)
    assert.deepEqual(warnings, [])
  })

  it('extra-audience signs in once the provider trusts that audience (and only that one)', async () => {
    const { idp } = await startIdp(['--scenario', 'extra-audience'])
    running.push(idp)
    const trusting = engine(idp.issuer, { trustedAudiences: ['https://api.example'] })
    const ok = await login(new AppBrowser(trusting.auth.handler))
    assert.equal(ok.status, 302, JSON.stringify(ok.body))
    const other = engine(idp.issuer, { trustedAudiences: ['https://other.example'] })
    const refused = await login(new AppBrowser(other.auth.handler))
    assert.equal(refused.body.error, 'id_token_claim_invalid')
  })

  it('slow-token → 504 provider_timeout past the engine timeout, and a login once the IdP is quick enough', async () => {
    const { idp } = await startIdp(['--scenario', 'slow-token', '--delay', '400'])
    running.push(idp)
    const quick = engine(idp.issuer, { timeoutMs: 150 })
    const refused = await login(new AppBrowser(quick.auth.handler))
    assert.equal(refused.status, 504)
    assert.equal(refused.body.error, 'provider_timeout')
    const patient = engine(idp.issuer, { timeoutMs: 3000 })
    const started = Date.now()
    const ok = await login(new AppBrowser(patient.auth.handler))
    assert.equal(ok.status, 302, JSON.stringify(ok.body))
    assert.ok(Date.now() - started >= 400, 'the token endpoint waited --delay')
  })

  it('rotate-keys: a new key at every code exchange; one JWKS refetch per new key, none within the 30 s cooldown', async () => {
    const { idp, requests } = await startIdp(['--scenario', 'rotate-keys'])
    running.push(idp)
    let now = Date.now()
    const clock = { now: () => now }
    const { auth, warnings, jwksFetches } = engine(idp.issuer, { clock })
    const browser = new AppBrowser(auth.handler)
    const kids: string[] = []
    const jwks = async () => {
      const set = (await (await fetch(`${idp.issuer}/jwks`)).json()) as { keys: { kid: string }[] }
      return set.keys.map((k) => k.kid)
    }

    assert.equal((await login(browser)).status, 302)
    assert.equal(jwksFetches.length, 1)
    kids.push(...(await jwks()))
    now += 31_000
    assert.equal((await login(browser)).status, 302, warnings.join('\n'))
    assert.equal(jwksFetches.length, 2, 'the new kid made the engine refetch once')
    const published = await jwks()
    assert.ok(published.length > kids.length, 'the rotated-out key stays published')
    // Within the cooldown a third new key is not fetched: the login is refused, the IdP spared.
    const third = await login(browser)
    assert.equal(third.status, 400)
    assert.equal(third.body.error, 'id_token_key_not_found')
    assert.equal(jwksFetches.length, 2)
    now += 31_000
    assert.equal((await login(browser)).status, 302)
    assert.equal(jwksFetches.length, 3)
    assert.ok(requests.some((l) => /^POST \/token 200/.test(l)))
  })
})

describe('dev-idp --scenario arguments', () => {
  const io: CliIo = { out: () => {}, err: () => {} }
  it('an unknown scenario is refused with the list of names', async () => {
    await assert.rejects(startDevIdp(['--scenario', 'nope'], io), (err: Error) => {
      assert.equal(err.name, 'CliError')
      assert.match(
        err.message,
        /"--scenario nope" is not a scenario; the scenarios are: wrong-iss, /,
      )
      return true
    })
  })
  it('--delay needs slow-token and a sane number', async () => {
    await assert.rejects(
      startDevIdp(['--delay', '5'], io),
      /only applies to "--scenario slow-token"/,
    )
    await assert.rejects(
      startDevIdp(['--scenario', 'slow-token', '--delay=-1'], io),
      /"--delay" must be a number of milliseconds/,
    )
  })
  it('--help lists every scenario', async () => {
    const out: string[] = []
    await startDevIdp(['--help'], { out: (l) => out.push(l), err: () => {} })
    for (const name of Object.keys(SCENARIOS))
      assert.match(out.join('\n'), new RegExp(`\\n  ${name} `))
  })
})

describe('docs/dev-idp.md', () => {
  it('documents every scenario with the code the engine answers', async () => {
    const { readFileSync } = await import('node:fs')
    const page = readFileSync(new URL('../../docs/dev-idp.md', import.meta.url), 'utf8')
    for (const [name, scenario] of Object.entries(SCENARIOS)) {
      const row = page.split('\n').find((l) => l.startsWith(`| \`${name}\` |`))
      assert.ok(row, `no row for ${name}`)
      const code = /^[a-z_]+/.exec(scenario.engine)?.[0] ?? ''
      if (code !== 'signs') assert.match(row, new RegExp(`\`${code}\``), name)
    }
  })
})
