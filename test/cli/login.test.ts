// `authkestra login` (the device flow from a terminal) against `authkestra dev-idp` on loopback:
// tokens printed as JSON or one of them; the person allowing it in Chromium on the verification
// page (code entered by hand, signed in, approved) while the command waits; a denial (exit 1 with
// its code); usage errors (exit 2); Ctrl-C (exit 130). The command runs as its own process where
// it matters (SIGINT, the real stdout), in this process otherwise.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { after, describe, it } from 'node:test'
import { chromium } from 'playwright-core'
import { type LoginIo, login } from '../../src/cli/login.ts'
import { type RunningDevIdp, startDevIdp } from '../../src/dev-idp/cli.ts'
import { Browser } from '../op/helpers/browser.ts'

const root = new URL('../../', import.meta.url).pathname
const CHROMIUM = '/usr/bin/chromium'
const ARTIFACTS = new URL('../../test-artifacts/', import.meta.url).pathname
const running: RunningDevIdp[] = []
after(async () => {
  for (const idp of running) await idp.close()
})

async function devIdp(args: string[] = []): Promise<string> {
  const idp = await startDevIdp(['--port', '0', ...args], { out: () => {}, err: () => {} })
  assert.ok(idp)
  running.push(idp)
  return idp.issuer
}

function io(signal?: AbortSignal): LoginIo & { stdout: string; stderr: string } {
  const captured = {
    stdout: '',
    stderr: '',
    out: (t: string) => {
      captured.stdout += t
    },
    err: (t: string) => {
      captured.stderr += t
    },
    env: {},
    ...(signal ? { signal } : {}),
  }
  return captured
}

/** The command as its own process. */
function command(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => {
    stdout += d
  })
  child.stderr.on('data', (d) => {
    stderr += d
  })
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const code = (async () => {
    for (let i = 0; i < 200; i++) {
      const m = /enter the code ([A-Z]{4}-[A-Z]{4})/.exec(stderr)
      if (m?.[1]) return { userCode: m[1], uri: /\(or open (\S+)\)/.exec(stderr)?.[1] ?? '' }
      await new Promise((r) => setTimeout(r, 50))
    }
    throw new Error(`no code printed: ${stderr}`)
  })()
  return { child, exit, code, output: () => ({ stdout, stderr }) }
}

describe('authkestra login', () => {
  it('prints the tokens as JSON (dev IdP with --auto-login: granted at once)', async () => {
    const issuer = await devIdp(['--auto-login', 'alice'])
    const out = io()
    const code = await login(
      ['--issuer', issuer, '--client-id', 'demo-app', '--scope', 'openid profile offline_access'],
      out,
    )
    assert.equal(code, 0, out.stderr)
    const tokens = JSON.parse(out.stdout) as Record<string, unknown>
    assert.equal(tokens.token_type, 'Bearer')
    assert.equal(typeof tokens.refresh_token, 'string')
    assert.match(
      out.stderr,
      new RegExp(`open ${issuer}/device and enter the code [A-Z]{4}-[A-Z]{4}`),
    )
    assert.match(out.stderr, /Signed in as alice/)
  })

  it('--print access_token prints the token alone, from a real process', async () => {
    const issuer = await devIdp(['--auto-login', 'alice'])
    const run = command(['--issuer', issuer, '--client-id', 'demo-app', '--print', 'access_token'])
    assert.equal(await run.exit, 0, run.output().stderr)
    assert.match(run.output().stdout, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\n$/)
  })

  it('a denial: exit 1 with device_access_denied', async () => {
    const issuer = await devIdp()
    const out = io()
    const running = login(['--issuer', issuer, '--client-id', 'demo-app'], out)
    for (let i = 0; i < 100 && !/enter the code/.test(out.stderr); i++)
      await new Promise((r) => setTimeout(r, 20))
    const userCode = /enter the code (\S+)/.exec(out.stderr)?.[1] ?? ''
    // The person, on the OP's pages through its HTTP server.
    const browser = new Browser((r) => fetch(r, { redirect: 'manual' }))
    const field = (html: string, name: string) =>
      new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1] ?? ''
    const action = (html: string) => /<form method="post" action="([^"]+)"/.exec(html)?.[1] ?? ''
    const entry = await (await browser.get(`${issuer}/device`)).text()
    const entered = await browser.post(`${issuer}/device`, {
      csrf: field(entry, 'csrf'),
      user_code: userCode,
    })
    const form = await (await browser.get(entered.headers.get('location') ?? '')).text()
    const consent = await (
      await browser.post(action(form), {
        csrf: field(form, 'csrf'),
        username: 'alice',
        password: 'wonderland',
      })
    ).text()
    await browser.post(action(consent), { csrf: field(consent, 'csrf'), decision: 'deny' })
    assert.equal(await running, 1)
    assert.match(out.stderr, /\(device_access_denied\)/)
    assert.equal(out.stdout, '')
  })

  it('usage errors exit 2 and say what is wrong', async () => {
    for (const [args, message] of [
      [[], /"--issuer" must be a URL/],
      [['--issuer', 'http://127.0.0.1:1'], /"--client-id" is required/],
      [
        ['--issuer', 'http://127.0.0.1:1', '--client-id', 'x', '--print', 'all'],
        /"--print" must be one of/,
      ],
      [['--nope'], /Unknown option '--nope'/],
    ] as const) {
      const out = io()
      assert.equal(await login(args, out), 2)
      assert.match(out.stderr, message)
    }
  })

  it('an unknown client exits 1 with the provider error; an unreachable issuer too', async () => {
    const issuer = await devIdp()
    const out = io()
    assert.equal(await login(['--issuer', issuer, '--client-id', 'nobody'], out), 1)
    assert.match(out.stderr, /"invalid_client" \(token_error\)/)
    const down = io()
    assert.equal(await login(['--issuer', 'http://127.0.0.1:9', '--client-id', 'x'], down), 1)
    assert.match(down.stderr, /\(provider_unreachable\)/)
  })

  it('Ctrl-C while waiting: exit 130', async () => {
    const issuer = await devIdp()
    const run = command(['--issuer', issuer, '--client-id', 'demo-app'])
    await run.code
    run.child.kill('SIGINT')
    assert.equal(await run.exit, 130)
    assert.match(run.output().stderr, /interrupted/)
  })

  it('in Chromium: the person types the code the command printed, signs in, approves; the command prints the token', {
    skip: existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (apt-get install -y chromium)`,
  }, async () => {
    mkdirSync(ARTIFACTS, { recursive: true })
    const issuer = await devIdp()
    const run = command(['--issuer', issuer, '--client-id', 'demo-app', '--print', 'id_token'])
    const { userCode, uri } = await run.code
    assert.equal(uri, `${issuer}/device?user_code=${userCode}`)
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'],
    })
    try {
      const page = await browser.newPage({ viewport: { width: 420, height: 760 } })
      await page.goto(`${issuer}/device`)
      await page.getByLabel('Code').fill(userCode.toLowerCase().replace('-', ''))
      await page.screenshot({ path: `${ARTIFACTS}device-entry.png`, fullPage: true })
      await page.getByRole('button', { name: 'Continue' }).click()
      await page.getByLabel('Username').fill('alice')
      await page.getByLabel('Password').fill('wonderland')
      await page.getByRole('button', { name: 'Sign in' }).click()
      await page.getByText(`showing the code ${userCode}`).waitFor()
      await page.screenshot({ path: `${ARTIFACTS}device-consent.png`, fullPage: true })
      await page.getByRole('button', { name: 'Allow' }).click()
      await page.getByRole('heading', { name: 'Device connected' }).waitFor()
      await page.screenshot({ path: `${ARTIFACTS}device-connected.png`, fullPage: true })
    } finally {
      await browser.close()
    }
    assert.equal(await run.exit, 0, run.output().stderr)
    const idToken = run.output().stdout.trim()
    const claims = JSON.parse(
      Buffer.from(idToken.split('.')[1] ?? '', 'base64url').toString(),
    ) as Record<string, unknown>
    assert.equal(claims.aud, 'demo-app')
    assert.equal(claims.iss, issuer)
  })
})
