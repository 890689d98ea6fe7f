// The dev IdP's `captcha` config section, as a user runs it: a real process whose login page
// asks for a Turnstile token verified at the loopback siteverify simulator, the secret taken
// from an environment variable; and the section's errors, naming fields, never values.
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { DevIdpConfigError, parseDevIdpFile } from '../../src/dev-idp/config-file.ts'
import { SIM_SECRETS, SiteverifySim } from '../helpers/siteverify-sim.ts'
import { actionOf, authorizationUrl, Browser, csrfOf } from '../op/helpers/browser.ts'

const root = new URL('../../', import.meta.url).pathname
const children: ChildProcess[] = []
let sim: SiteverifySim
before(async () => {
  sim = await new SiteverifySim().start()
})
after(async () => {
  for (const child of children) child.kill()
  await sim.stop()
})

function run(config: unknown, env: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'authkestra-dev-idp-captcha-'))
  const path = join(dir, 'config.json')
  writeFileSync(path, JSON.stringify(config))
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/dev-idp/main.ts', '--port', '0', '--config', path],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } },
  )
  children.push(child)
  let stdout = ''
  let stderr = ''
  child.stderr?.on('data', (d) => {
    stderr += d
  })
  const ready = new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (d) => {
      stdout += d
      const m = /authkestra dev-idp ready: issuer (\S+)/.exec(stdout)
      if (m?.[1]) resolve(m[1])
    })
    child.on('exit', () => reject(new Error(`exited before ready: ${stderr}`)))
  })
  ready.catch(() => {})
  const exit = new Promise<{ code: number | null; stderr: string }>((resolve) =>
    child.on('exit', (code) => resolve({ code, stderr })),
  )
  return { ready, exit }
}

const CLIENT = {
  client_id: 'app',
  token_endpoint_auth_method: 'none',
  redirect_uris: ['https://app.example/cb'],
  skip_consent: true,
}

describe('dev IdP: captcha from the config file', () => {
  it('asks for a Turnstile token on its login page, the secret read from the named variable', async () => {
    const { ready } = run(
      {
        clients: [CLIENT],
        users: [{ username: 'alice', password: 'wonderland' }],
        captcha: {
          provider: 'turnstile',
          siteKey: '1x00000000000000000000AA',
          secretEnv: 'DEV_IDP_TURNSTILE_SECRET',
          verifyUrl: sim.url('turnstile'),
        },
      },
      { DEV_IDP_TURNSTILE_SECRET: SIM_SECRETS.turnstile },
    )
    const issuer = await ready
    const browser = new Browser((request) => fetch(request, { redirect: 'manual' }))
    const auth = await authorizationUrl(issuer, {
      client_id: 'app',
      redirect_uri: 'https://app.example/cb',
    })
    const first = await browser.get(auth.url)
    const page = await browser.get(first.headers.get('location') ?? '')
    const html = await page.text()
    assert.ok(
      html.includes(
        'class="cf-turnstile" data-sitekey="1x00000000000000000000AA" data-action="login"',
      ),
    )
    assert.match(
      page.headers.get('content-security-policy') ?? '',
      /script-src https:\/\/challenges\.cloudflare\.com/,
    )
    const without = await browser.post(actionOf(html), {
      csrf: csrfOf(html),
      username: 'alice',
      password: 'wonderland',
    })
    assert.equal(without.status, 400)
    const again = await without.text()
    // The default allow-list is the issuer's host.
    const token = sim.issue('turnstile', { hostname: new URL(issuer).hostname, action: 'login' })
    const withToken = await browser.post(actionOf(again), {
      csrf: csrfOf(again),
      username: 'alice',
      password: 'wonderland',
      'cf-turnstile-response': token,
    })
    assert.equal(withToken.status, 303)
    assert.ok((withToken.headers.get('location') ?? '').startsWith('https://app.example/cb?code='))
    assert.equal(sim.requests.at(-1)?.fields.secret, SIM_SECRETS.turnstile)
  })

  it('refuses to start with an unset secret variable, naming it, not printing any secret', async () => {
    const { exit } = run(
      {
        clients: [CLIENT],
        captcha: { provider: 'hcaptcha', siteKey: 'k', secretEnv: 'DEV_IDP_UNSET_SECRET_VAR' },
      },
      {},
    )
    const { code, stderr } = await exit
    assert.equal(code, 2)
    assert.match(
      stderr,
      /"captcha.secretEnv": the environment variable DEV_IDP_UNSET_SECRET_VAR is not set/,
    )
  })
})

describe('dev IdP: the captcha section is checked', () => {
  const base = { provider: 'turnstile', siteKey: 'site', secret: 'file-secret-never-echoed' }
  const cases: [unknown, RegExp][] = [
    ['yes', /"captcha" must be an object/],
    [{ ...base, provider: 'recaptcha-v2' }, /"captcha.provider" must be one of/],
    [{ ...base, siteKey: '' }, /"captcha.siteKey"/],
    [{ ...base, secretEnv: 'X' }, /exactly one of "secret" and "secretEnv"/],
    [{ provider: 'turnstile', siteKey: 'site' }, /exactly one of "secret" and "secretEnv"/],
    [
      { ...base, secret: undefined, secretEnv: 'not a name' },
      /"captcha.secretEnv" must be the name/,
    ],
    [{ ...base, hostnames: 'localhost' }, /"captcha.hostnames" must be an array/],
    [{ ...base, minScore: '0.5' }, /"captcha.minScore" must be a number/],
    [{ ...base, colour: 'blue' }, /"captcha.colour" is not a known field/],
  ]
  for (const [captcha, message] of cases) {
    it(`refuses ${JSON.stringify(captcha)}`, () => {
      const text = JSON.stringify({ clients: [CLIENT], captcha })
      assert.throws(
        () => parseDevIdpFile(text),
        (err: unknown) =>
          err instanceof DevIdpConfigError &&
          message.test(err.message) &&
          !err.message.includes('file-secret-never-echoed'),
      )
    })
  }

  it('takes the secret from the file', () => {
    const file = parseDevIdpFile(
      JSON.stringify({ clients: [CLIENT], captcha: { ...base, when: { afterFailures: 2 } } }),
    )
    assert.equal(file.captcha?.secret, 'file-secret-never-echoed')
    assert.deepEqual(file.captcha?.when, { afterFailures: 2 })
  })
})
