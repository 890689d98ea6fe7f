// The README quickstart, exactly as written: type-checked with the project's strict settings
// against the built package, then run as a real server and driven through a full login against a
// real OpenID Provider (oidc-provider on loopback).
import assert from 'node:assert/strict'
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { promisify } from 'node:util'
import {
  followToCallback,
  type RunningOidcProvider,
  startOidcProvider,
} from '../e2e/helpers/oidc-provider-server.ts'

const root = new URL('../../', import.meta.url).pathname
const dir = `${root}.tmp/quickstart/`
const readme = readFileSync(`${root}README.md`, 'utf8')
const block = /<!-- quickstart:start -->\n```ts\n([\s\S]*?)```\n<!-- quickstart:end -->/.exec(
  readme,
)?.[1]
const built = existsSync(`${root}dist/client/index.js`)

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const address = server.address()
  await new Promise<void>((r) => server.close(() => r()))
  return typeof address === 'object' && address ? address.port : 0
}

async function waitForServer(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`quickstart exited with ${child.exitCode}`)
    try {
      await fetch(url)
      return
    } catch {
      await new Promise((r) => setTimeout(r, 100))
    }
  }
  throw new Error('quickstart did not start')
}

describe('README quickstart', {
  skip: built ? false : 'dist/ is not built: run `npm run build` (npm test does)',
}, () => {
  before(() => {
    assert.ok(block, 'README has a quickstart block between the markers')
    mkdirSync(dir, { recursive: true })
    writeFileSync(`${dir}quickstart.ts`, block)
    writeFileSync(
      `${dir}tsconfig.json`,
      JSON.stringify({
        extends: '../../tsconfig.json',
        compilerOptions: { noEmit: true },
        include: ['quickstart.ts'],
      }),
    )
  })

  it('type-checks as written (strict, exactOptionalPropertyTypes, against dist types)', async () => {
    await promisify(execFile)(process.execPath, [
      `${root}node_modules/typescript/bin/tsc`,
      '-p',
      `${dir}tsconfig.json`,
    ])
  })

  describe('runs as written', () => {
    let op: RunningOidcProvider
    let app: ChildProcess
    let port = 0
    let output = ''

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
      app = spawn(process.execPath, ['--import', 'tsx', `${dir}quickstart.ts`], {
        cwd: root,
        env: {
          ...process.env,
          PORT: String(port),
          AUTH_SECRET: 'quickstart-test-secret-that-is-32-bytes-long',
          OIDC_ISSUER: op.issuer,
          OIDC_CLIENT_ID: 'quickstart',
          OIDC_CLIENT_SECRET: 'quickstart-secret',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      app.stdout?.on('data', (d) => {
        output += d
      })
      app.stderr?.on('data', (d) => {
        output += d
      })
      await waitForServer(`http://localhost:${port}/`, app)
    })

    after(async () => {
      app?.kill()
      await op?.close()
    })

    it('logs in through the provider and returns the identity', async () => {
      const login = await fetch(`http://localhost:${port}/login`, { redirect: 'manual' })
      assert.equal(login.status, 302, output)
      const authorizationUrl = new URL(login.headers.get('location') ?? '')
      assert.equal(authorizationUrl.searchParams.get('code_challenge_method'), 'S256')
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
