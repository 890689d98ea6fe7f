// The three verifiers against the loopback siteverify simulator: every reason code, replay (the
// provider's and the local useOnce), transport failures failing closed, and no secret or token
// in any result.
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { after, before, describe, it } from 'node:test'
import { hcaptcha } from '../../src/captcha/hcaptcha.ts'
import { recaptchaV3 } from '../../src/captcha/recaptcha.ts'
import { turnstile } from '../../src/captcha/turnstile.ts'
import type { CaptchaResult, CaptchaVerifier } from '../../src/captcha/types.ts'
import { createMemoryOpStore } from '../../src/op/store/memory.ts'
import {
  SIM_HCAPTCHA_SITEKEY,
  SIM_SECRETS,
  type SimProvider,
  SiteverifySim,
} from '../helpers/siteverify-sim.ts'

let sim: SiteverifySim
before(async () => {
  sim = await new SiteverifySim().start()
})
after(() => sim.stop())

const HOSTS = ['login.example']

function verifiers(
  extra: { timeoutMs?: number; useOnce?: (id: string, ttl: number) => Promise<boolean> } = {},
) {
  return {
    turnstile: turnstile({
      secret: SIM_SECRETS.turnstile,
      hostnames: HOSTS,
      action: 'login',
      verifyUrl: sim.url('turnstile'),
      ...extra,
    }),
    hcaptcha: hcaptcha({
      secret: SIM_SECRETS.hcaptcha,
      siteKey: SIM_HCAPTCHA_SITEKEY,
      hostnames: HOSTS,
      verifyUrl: sim.url('hcaptcha'),
      ...extra,
    }),
    recaptcha: recaptchaV3({
      secret: SIM_SECRETS.recaptcha,
      hostnames: HOSTS,
      action: 'login',
      verifyUrl: sim.url('recaptcha'),
      ...extra,
    }),
  } satisfies Record<SimProvider, CaptchaVerifier>
}

/** A token that passes every check of its provider's verifier. */
function goodToken(provider: SimProvider): string {
  return sim.issue(provider, {
    hostname: 'login.example',
    action: provider === 'hcaptcha' ? undefined : 'login',
    score: provider === 'recaptcha' ? 0.9 : undefined,
  })
}

/** Fails unless `result` is a failure with `reason`, naming neither the token nor a secret. */
function refused(result: CaptchaResult, reason: string, token = ''): void {
  assert.equal(result.ok, false, JSON.stringify(result))
  if (result.ok) return
  assert.equal(result.reason, reason, result.detail)
  const text = JSON.stringify(result)
  for (const secret of Object.values(SIM_SECRETS)) assert.ok(!text.includes(secret))
  if (token !== '') assert.ok(!text.includes(token.slice(3)), 'token echoed')
}

const PROVIDERS: readonly SimProvider[] = ['turnstile', 'hcaptcha', 'recaptcha']

describe('captcha verifiers: a good token', () => {
  it('turnstile passes and sends secret, response, remoteip and idempotency_key as a form', async () => {
    const token = sim.issue('turnstile', {
      hostname: 'Login.Example',
      action: 'login',
      cdata: 'c1',
    })
    const key = crypto.randomUUID()
    const result = await verifiers().turnstile.verify(token, {
      remoteIp: '203.0.113.9',
      idempotencyKey: key,
    })
    assert.equal(result.ok, true, JSON.stringify(result))
    assert.ok(result.ok)
    assert.equal(result.action, 'login')
    assert.equal(result.cdata, 'c1')
    assert.ok(Math.abs(result.challengeTs - Date.now()) < 5_000)
    const sent = sim.requests.at(-1)
    assert.equal(sent?.type, 'application/x-www-form-urlencoded')
    assert.deepEqual(sent?.fields, {
      secret: SIM_SECRETS.turnstile,
      response: token,
      remoteip: '203.0.113.9',
      idempotency_key: key,
    })
  })

  it('hcaptcha passes and sends its sitekey; reCAPTCHA passes with its score', async () => {
    const v = verifiers()
    const h = await v.hcaptcha.verify(goodToken('hcaptcha'))
    assert.equal(h.ok, true, JSON.stringify(h))
    assert.equal(sim.requests.at(-1)?.fields.sitekey, SIM_HCAPTCHA_SITEKEY)
    assert.equal(sim.requests.at(-1)?.fields.remoteip, undefined)
    const r = await v.recaptcha.verify(goodToken('recaptcha'), { remoteIp: '2001:db8::1' })
    assert.ok(r.ok)
    assert.equal(r.score, 0.9)
    assert.equal(sim.requests.at(-1)?.fields.remoteip, '2001:db8::1')
  })
})

describe('captcha verifiers: refused before any network call', () => {
  for (const provider of PROVIDERS) {
    it(`${provider}: no token is captcha_missing, a malformed one captcha_invalid`, async () => {
      const v = verifiers()[provider]
      const count = sim.requests.length
      for (const empty of [undefined, null, '']) refused(await v.verify(empty), 'captcha_missing')
      const max = provider === 'turnstile' ? 2048 : 8192
      for (const bad of ['x'.repeat(max + 1), 'a b', 'tok\u00e9n', 'a\nb', 42, ['x'], { t: 1 }])
        refused(await v.verify(bad), 'captcha_invalid')
      assert.equal(sim.requests.length, count, 'siteverify was called')
    })
  }
})

describe('captcha verifiers: what siteverify says', () => {
  for (const provider of PROVIDERS) {
    it(`${provider}: an unknown token is captcha_invalid, a reused one captcha_replayed`, async () => {
      const v = verifiers()[provider]
      const unknown = sim.issue(provider === 'turnstile' ? 'hcaptcha' : 'turnstile')
      refused(await v.verify(unknown), 'captcha_invalid', unknown)
      const result = await v.verify(unknown)
      assert.ok(!result.ok && result.providerCodes.includes('invalid-input-response'))
      const token = goodToken(provider)
      assert.equal((await v.verify(token)).ok, true)
      const again = await v.verify(token)
      refused(again, 'captcha_replayed', token)
      assert.deepEqual(!again.ok && again.providerCodes, [
        provider === 'hcaptcha' ? 'already-seen-response' : 'timeout-or-duplicate',
      ])
    })

    it(`${provider}: a token solved on another host is captcha_hostname`, async () => {
      const token = sim.issue(provider, { hostname: 'evil.example', action: 'login', score: 0.9 })
      refused(await verifiers()[provider].verify(token), 'captcha_hostname', token)
    })

    it(`${provider}: a wrong secret is captcha_misconfigured, and the secret is not in it`, async () => {
      const secret = `wrong-${provider}-secret-do-not-echo`
      const v =
        provider === 'turnstile'
          ? turnstile({ secret, hostnames: HOSTS, action: 'login', verifyUrl: sim.url(provider) })
          : provider === 'hcaptcha'
            ? hcaptcha({
                secret,
                siteKey: SIM_HCAPTCHA_SITEKEY,
                hostnames: HOSTS,
                verifyUrl: sim.url(provider),
              })
            : recaptchaV3({
                secret,
                hostnames: HOSTS,
                action: 'login',
                verifyUrl: sim.url(provider),
              })
      const token = goodToken(provider)
      const result = await v.verify(token)
      refused(result, 'captcha_misconfigured', token)
      assert.ok(!JSON.stringify(result).includes(secret))
      assert.deepEqual(!result.ok && result.providerCodes, ['invalid-input-secret'])
    })
  }

  it('hcaptcha: a token of another site key is captcha_misconfigured (sitekey-secret-mismatch)', async () => {
    const token = sim.issue('hcaptcha', {
      hostname: 'login.example',
      siteKey: '20000000-ffff-ffff-ffff-000000000002',
    })
    refused(await verifiers().hcaptcha.verify(token), 'captcha_misconfigured', token)
  })

  it('turnstile and reCAPTCHA: another action (or none) is captcha_action', async () => {
    const v = verifiers()
    for (const provider of ['turnstile', 'recaptcha'] as const) {
      for (const action of ['signup', undefined]) {
        const token = sim.issue(provider, { hostname: 'login.example', action, score: 0.9 })
        refused(await v[provider].verify(token), 'captcha_action', token)
      }
    }
  })

  it('reCAPTCHA: a score under the minimum, or none, is captcha_score; 0.5 is the default minimum', async () => {
    const v = verifiers()
    for (const score of [0.3, 0.49, undefined]) {
      const token = sim.issue('recaptcha', { hostname: 'login.example', action: 'login', score })
      refused(await v.recaptcha.verify(token), 'captcha_score', token)
    }
    const edge = sim.issue('recaptcha', { hostname: 'login.example', action: 'login', score: 0.5 })
    assert.equal((await v.recaptcha.verify(edge)).ok, true)
    const strict = recaptchaV3({
      secret: SIM_SECRETS.recaptcha,
      hostnames: HOSTS,
      action: 'login',
      minScore: 0.7,
      verifyUrl: sim.url('recaptcha'),
    })
    const mid = sim.issue('recaptcha', { hostname: 'login.example', action: 'login', score: 0.6 })
    refused(await strict.verify(mid), 'captcha_score', mid)
  })

  it('hCaptcha Enterprise: with maxScore, a riskier score or none is captcha_score', async () => {
    const enterprise = hcaptcha({
      secret: SIM_SECRETS.hcaptcha,
      siteKey: SIM_HCAPTCHA_SITEKEY,
      hostnames: HOSTS,
      maxScore: 0.4,
      verifyUrl: sim.url('hcaptcha'),
    })
    for (const score of [0.8, undefined]) {
      const token = sim.issue('hcaptcha', { hostname: 'login.example', score })
      refused(await enterprise.verify(token), 'captcha_score', token)
    }
    const low = sim.issue('hcaptcha', { hostname: 'login.example', score: 0.1 })
    const pass = await enterprise.verify(low)
    assert.ok(pass.ok)
    assert.equal(pass.score, 0.1)
    // Without maxScore the score is not looked at.
    const risky = sim.issue('hcaptcha', { hostname: 'login.example', score: 0.99 })
    assert.equal((await verifiers().hcaptcha.verify(risky)).ok, true)
  })

  it('a challenge older than the token life (Turnstile 300 s, others 120 s) or maxAgeSeconds is captcha_stale', async () => {
    const v = verifiers()
    const cases = [
      ['turnstile', 301_000, 290_000],
      ['hcaptcha', 121_000, 110_000],
      ['recaptcha', 121_000, 110_000],
    ] as const
    for (const [provider, tooOld, fine] of cases) {
      const old = sim.issue(provider, {
        hostname: 'login.example',
        action: 'login',
        score: 0.9,
        challengeTs: Date.now() - tooOld,
      })
      refused(await v[provider].verify(old), 'captcha_stale', old)
      const ok = sim.issue(provider, {
        hostname: 'login.example',
        action: 'login',
        score: 0.9,
        challengeTs: Date.now() - fine,
      })
      assert.equal((await v[provider].verify(ok)).ok, true, provider)
    }
    const future = sim.issue('turnstile', {
      hostname: 'login.example',
      action: 'login',
      challengeTs: Date.now() + 60_000,
    })
    refused(await v.turnstile.verify(future), 'captcha_stale', future)
    const tight = turnstile({
      secret: SIM_SECRETS.turnstile,
      hostnames: HOSTS,
      action: 'login',
      maxAgeSeconds: 30,
      verifyUrl: sim.url('turnstile'),
    })
    const minute = sim.issue('turnstile', {
      hostname: 'login.example',
      action: 'login',
      challengeTs: Date.now() - 60_000,
    })
    refused(await tight.verify(minute), 'captcha_stale', minute)
  })
})

describe('captcha verifiers: local replay (useOnce)', () => {
  it('refuses a token seen before without asking siteverify, keyed by its SHA-256', async () => {
    const store = createMemoryOpStore()
    const ids: { id: string; ttl: number }[] = []
    const useOnce = (id: string, ttl: number) => {
      ids.push({ id, ttl })
      return store.useOnce(id, ttl)
    }
    const v = verifiers({ useOnce })
    const token = goodToken('turnstile')
    assert.equal((await v.turnstile.verify(token)).ok, true)
    const count = sim.requests.length
    refused(await v.turnstile.verify(token), 'captcha_replayed', token)
    assert.equal(sim.requests.length, count, 'siteverify was asked about a known replay')
    assert.match(ids[0]?.id ?? '', /^captcha:[A-Za-z0-9_-]{43}$/)
    assert.ok(!ids[0]?.id.includes(token.slice(2, 20)))
    assert.equal(ids[0]?.ttl, 360)
    // Another token is new; a malformed one never reaches the store.
    assert.equal((await v.turnstile.verify(goodToken('turnstile'))).ok, true)
    await v.turnstile.verify('')
    assert.equal(ids.length, 3)
  })

  it('a failing replay store is captcha_unavailable (fail closed)', async () => {
    const v = verifiers({ useOnce: () => Promise.reject(new Error('store down')) })
    const token = goodToken('recaptcha')
    refused(await v.recaptcha.verify(token), 'captcha_unavailable', token)
  })
})

describe('captcha verifiers: siteverify misbehaving fails closed', () => {
  const modes = ['status-500', 'html', 'huge', 'array', 'no-success', 'redirect', 'down'] as const
  for (const mode of modes) {
    it(`${mode}: captcha_unavailable for every provider`, async () => {
      sim.mode = mode
      try {
        const v = verifiers()
        for (const provider of PROVIDERS) {
          const token = goodToken(provider)
          refused(await v[provider].verify(token), 'captcha_unavailable', token)
        }
      } finally {
        sim.mode = 'normal'
      }
    })
  }

  it('slow: captcha_unavailable once timeoutMs has passed, not later', async () => {
    sim.mode = 'slow'
    sim.slowMs = 2_000
    try {
      const v = verifiers({ timeoutMs: 200 })
      const started = performance.now()
      const result = await v.turnstile.verify(goodToken('turnstile'))
      const elapsed = performance.now() - started
      refused(result, 'captcha_unavailable')
      assert.match(!result.ok ? result.detail : '', /did not answer in time/)
      assert.ok(elapsed >= 190 && elapsed < 1_500, `took ${elapsed} ms`)
    } finally {
      sim.mode = 'normal'
    }
  })

  it('an aborted signal and a closed port are captcha_unavailable', async () => {
    const v = verifiers()
    refused(
      await v.hcaptcha.verify(goodToken('hcaptcha'), { signal: AbortSignal.abort() }),
      'captcha_unavailable',
    )
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const address = closed.address()
    const port = typeof address === 'object' && address ? address.port : 0
    await new Promise<void>((resolve) => closed.close(() => resolve()))
    const nowhere = turnstile({
      secret: SIM_SECRETS.turnstile,
      hostnames: HOSTS,
      action: 'login',
      verifyUrl: `http://127.0.0.1:${port}/turnstile/v0/siteverify`,
    })
    const result = await nowhere.verify(goodToken('turnstile'))
    refused(result, 'captcha_unavailable')
    assert.match(!result.ok ? result.detail : '', /could not be reached/)
  })
})
