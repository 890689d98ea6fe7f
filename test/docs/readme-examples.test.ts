// The README's runnable blocks, exactly as written: type-checked with the project's strict
// settings against the built package, then run as real servers and driven through full logins
// (the quickstart against oidc-provider on loopback; the embedded OP with our own OAuth2Flow).
import assert from 'node:assert/strict'
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import { promisify } from 'node:util'
import { OAuth2Flow } from '../../src/client/oauth2-flow.ts'
import { oidc } from '../../src/providers/oidc.ts'
import {
  followToCallback,
  type RunningOidcProvider,
  startOidcProvider,
} from '../e2e/helpers/oidc-provider-server.ts'
import { loginThroughForm } from '../helpers/login-form.ts'
import { freePort } from '../helpers/net.ts'

const root = new URL('../../', import.meta.url).pathname
const readme = readFileSync(`${root}README.md`, 'utf8')
const built = existsSync(`${root}dist/client/index.js`) && existsSync(`${root}dist/op/index.js`)

/** Writes the README block between `<!-- name:start -->` and `<!-- name:end -->` to .tmp/<name>/. */
function prepare(name: string): string {
  const fence = '```'
  const opening = `<!-- ${name}:start -->\n${fence}ts\n`
  const start = readme.indexOf(opening)
  const end = readme.indexOf(`${fence}\n<!-- ${name}:end -->`)
  assert.ok(start >= 0 && end > start, `README has a ${name} block between the markers`)
  const block = readme.slice(start + opening.length, end)
  const dir = `${root}.tmp/${name}/`
  mkdirSync(dir, { recursive: true })
  writeFileSync(`${dir}${name}.ts`, block)
  writeFileSync(
    `${dir}tsconfig.json`,
    JSON.stringify({
      extends: '../../tsconfig.json',
      compilerOptions: { noEmit: true },
      include: [`${name}.ts`],
    }),
  )
  return dir
}

async function typecheck(dir: string): Promise<void> {
  await promisify(execFile)(process.execPath, [
    `${root}node_modules/typescript/bin/tsc`,
    '-p',
    `${dir}tsconfig.json`,
  ])
}

function start(
  file: string,
  env: Record<string, string>,
): { child: ChildProcess; output: () => string } {
  let output = ''
  const child = spawn(process.execPath, ['--import', 'tsx', file], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stdout?.on('data', (d) => {
    output += d
  })
  child.stderr?.on('data', (d) => {
    output += d
  })
  return { child, output: () => output }
}

async function waitForServer(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`example exited with ${child.exitCode}`)
    try {
      await fetch(url)
      return
    } catch {
      await new Promise((r) => setTimeout(r, 100))
    }
  }
  throw new Error('example did not start')
}

const skip = built ? false : 'dist/ is not built: run `npm run build` (npm test does)'

describe('README quickstart', { skip }, () => {
  let dir = ''
  before(() => {
    dir = prepare('quickstart')
  })

  it('type-checks as written (strict, exactOptionalPropertyTypes, against dist types)', async () => {
    await typecheck(dir)
  })

  describe('runs as written', () => {
    let op: RunningOidcProvider
    let app: ReturnType<typeof start>
    let port = 0

    before(async () => {
      port = await freePort()
      op = await startOidcProvider({
        clients: [
          {
            client_id: 'quickstart',
            client_secret: 'quickstart-secret',
            token_endpoint_auth_method: 'client_secret_basic',
            redirect_uris: [`http://localhost:${port}/callback`],
          },
        ],
      })
      app = start(`${dir}quickstart.ts`, {
        PORT: String(port),
        AUTH_SECRET: 'quickstart-test-secret-that-is-32-bytes-long',
        OIDC_ISSUER: op.issuer,
        OIDC_CLIENT_ID: 'quickstart',
        OIDC_CLIENT_SECRET: 'quickstart-secret',
      })
      await waitForServer(`http://localhost:${port}/`, app.child)
    })

    after(async () => {
      app?.child.kill()
      await op?.close()
    })

    it('logs in through the provider and returns the identity', async () => {
      const login = await fetch(`http://localhost:${port}/login`, { redirect: 'manual' })
      assert.equal(login.status, 302, app.output())
      const authorizationUrl = new URL(login.headers.get('location') ?? '')
      // oidc-provider offers PAR: PKCE went in the pushed request, the URL names only it.
      assert.deepEqual([...authorizationUrl.searchParams.keys()].sort(), [
        'client_id',
        'request_uri',
      ])
      const cookie = login.headers.getSetCookie().find((c) => c.startsWith('login='))
      assert.ok(cookie?.includes('HttpOnly'), 'sealed login cookie is HttpOnly')
      if (!cookie) return
      const callback = await followToCallback(authorizationUrl, `http://localhost:${port}/callback`)
      const done = await fetch(callback, { headers: { cookie: cookie.split(';')[0] as string } })
      const text = await done.text()
      assert.equal(done.status, 200, text)
      assert.deepEqual(JSON.parse(text), {
        subject: op.accounts[0]?.sub,
        email: op.accounts[0]?.email,
      })
    })

    it('refuses the callback without the login cookie', async () => {
      const login = await fetch(`http://localhost:${port}/login`, { redirect: 'manual' })
      const callback = await followToCallback(
        login.headers.get('location') ?? '',
        `http://localhost:${port}/callback`,
      )
      const done = await fetch(callback)
      assert.equal(done.status, 400)
      assert.equal(await done.text(), 'login failed: flow_state_malformed')
    })
  })
})

describe('README: embedding the OpenID Provider', { skip }, () => {
  let dir = ''
  before(() => {
    dir = prepare('embed-op')
  })

  it('type-checks as written', async () => {
    await typecheck(dir)
  })

  it('runs as written: our OAuth2Flow logs alice in through its login form', async () => {
    const port = await freePort()
    const app = start(`${dir}embed-op.ts`, {
      PORT: String(port),
      MY_APP_SECRET: 'embed-op-test-secret-0123456789abcdef',
    })
    try {
      await waitForServer(`http://localhost:${port}/oidc/jwks`, app.child)
      const flow = new OAuth2Flow(
        oidc({
          issuer: `http://localhost:${port}/oidc`,
          clientId: 'my-app',
          clientSecret: 'embed-op-test-secret-0123456789abcdef',
          redirectUri: 'http://localhost:3000/callback',
        }),
      )
      const { url, flowState } = await flow.initiateLogin()
      const { callback } = await loginThroughForm(url, {
        username: 'alice',
        password: 'wonderland',
      })
      const { identity } = await flow.finalizeLogin(callback, flowState)
      assert.equal(identity.email, 'alice@example.com')
      assert.equal(identity.issuer, `http://localhost:${port}/oidc`)
    } finally {
      app.child.kill()
    }
  })
})
