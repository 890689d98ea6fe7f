// The options of the three verifiers, checked when one is made: an http verifyUrl only on
// loopback (or with allowInsecureHttp), required fields, sane numbers, no secret in a message;
// and 'any-unsafe' skipping exactly the hostname check.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { hcaptcha } from '../../src/captcha/hcaptcha.ts'
import { recaptchaV3 } from '../../src/captcha/recaptcha.ts'
import { turnstile } from '../../src/captcha/turnstile.ts'
import { code } from '../helpers/assert-code.ts'
import { SIM_SECRETS, SiteverifySim } from '../helpers/siteverify-sim.ts'

let sim: SiteverifySim
before(async () => {
  sim = await new SiteverifySim().start()
})
after(() => sim.stop())

const HOSTS = ['login.example']

describe('captcha verifiers: configuration', () => {
  const base = { secret: 'configured-secret-never-echoed', hostnames: HOSTS, action: 'login' }
  it('refuses an http verifyUrl off loopback unless allowInsecureHttp', () => {
    assert.throws(
      () => turnstile({ ...base, verifyUrl: 'http://siteverify.example/x' }),
      code('insecure_url'),
    )
    assert.equal(
      turnstile({ ...base, verifyUrl: 'http://siteverify.example/x', allowInsecureHttp: true })
        .provider,
      'turnstile',
    )
    assert.equal(turnstile({ ...base, verifyUrl: 'http://localhost:1/x' }).provider, 'turnstile')
    assert.throws(
      () => turnstile({ ...base, verifyUrl: 'https://u:p@siteverify.example/' }),
      code('config_invalid'),
    )
    assert.throws(() => turnstile({ ...base, verifyUrl: 'not a url' }), code('config_invalid'))
  })

  it('requires a secret, hostnames (or any-unsafe), a valid action and sane numbers, naming no secret', () => {
    const bad: unknown[] = [
      { ...base, secret: '' },
      { ...base, hostnames: [] },
      { ...base, hostnames: ['https://login.example'] },
      { ...base, hostnames: undefined },
      { ...base, action: '' },
      { ...base, action: 'has space' },
      { ...base, action: 'x'.repeat(33) },
      { ...base, maxAgeSeconds: 301 },
      { ...base, maxAgeSeconds: 0 },
      { ...base, timeoutMs: -1 },
      { ...base, useOnce: 'yes' },
    ]
    for (const options of bad) {
      assert.throws(
        () => turnstile(options as Parameters<typeof turnstile>[0]),
        code('config_invalid', undefined, (err) => assert.ok(!err.message.includes(base.secret))),
        JSON.stringify(options),
      )
    }
    assert.equal(turnstile({ ...base, hostnames: 'any-unsafe' }).provider, 'turnstile')
    assert.throws(() => hcaptcha({ ...base, siteKey: '' }), code('config_invalid'))
    assert.throws(() => hcaptcha({ ...base, siteKey: 'k', maxScore: 2 }), code('config_invalid'))
    assert.throws(() => recaptchaV3({ ...base, minScore: -0.1 }), code('config_invalid'))
    assert.throws(() => recaptchaV3({ ...base, maxAgeSeconds: 121 }), code('config_invalid'))
  })

  it('any-unsafe skips only the hostname check', async () => {
    const anyHost = turnstile({
      secret: SIM_SECRETS.turnstile,
      hostnames: 'any-unsafe',
      action: 'login',
      verifyUrl: sim.url('turnstile'),
    })
    const token = sim.issue('turnstile', { hostname: 'elsewhere.example', action: 'login' })
    assert.equal((await anyHost.verify(token)).ok, true)
    const wrong = sim.issue('turnstile', { hostname: 'elsewhere.example', action: 'signup' })
    const refused = await anyHost.verify(wrong)
    assert.equal(!refused.ok && refused.reason, 'captcha_action')
  })
})
