// The per-adapter examples (also shown in the README), run as written: each example process logs
// alice in through a dev IdP (auto-login) and serves her profile on a guarded route.
import assert from 'node:assert/strict'
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { promisify } from 'node:util'
import { type RunningDevIdp, startDevIdp } from '../../src/dev-idp/cli.ts'
import { CookieJar } from '../helpers/cookie-jar.ts'
import { freePort } from '../helpers/net.ts'

const root = new URL('../../', import.meta.url).pathname
const built = existsSync(`${root}dist/adapters/express.js`)
const readme = readFileSync(`${root}README.md`, 'utf8')
const children: ChildProcess[] = []
const idps: RunningDevIdp[] = []
after(async () => {
  for (const child of children) child.kill()
  for (const idp of idps) await idp.close()
})

async function waitFor(url: string, child: ChildProcess, output: () => string): Promise<void> {
  for (let i = 0; i < 150; i++) {
    if (child.exitCode !== null) throw new Error(`example exited: ${output()}`)
    try {
      await fetch(url)
      return
    } catch {
      await new Promise((r) => setTimeout(r, 100))
    }
  }
  throw new Error(`example did not start: ${output()}`)
}

describe('examples/ (one per adapter)', {
  skip: built ? false : 'dist/ is not built: run `npm run build` (npm test does)',
}, () => {
  it('type-check as written against the built package (strict settings)', async () => {
    // examples import 'authkestra/*', which resolves to dist/: checked here, after the build
    const dir = `${root}.tmp/examples/`
    mkdirSync(dir, { recursive: true })
    writeFileSync(
      `${dir}tsconfig.json`,
      JSON.stringify({
        extends: '../../tsconfig.json',
        compilerOptions: { noEmit: true },
        include: ['../../examples/*.ts'],
      }),
    )
    await promisify(execFile)(process.execPath, [
      `${root}node_modules/typescript/bin/tsc`,
      '-p',
      `${dir}tsconfig.json`,
    ])
  })

  for (const adapter of ['express', 'fastify', 'hono', 'node-http']) {
    it(`${adapter}: the README shows the example as it is`, () => {
      const file = readFileSync(`${root}examples/${adapter}.ts`, 'utf8')
      assert.ok(
        readme.includes(`<!-- example:${adapter} -->\n\`\`\`ts\n${file}\`\`\``),
        `README quotes examples/${adapter}.ts exactly`,
      )
    })

    it(`${adapter}: signs alice in through the dev IdP and serves /me`, async () => {
      const port = await freePort()
      const config = join(mkdtempSync(join(tmpdir(), 'ak-example-')), 'idp.json')
      writeFileSync(
        config,
        JSON.stringify({
          clients: [
            {
              client_id: 'demo-app',
              redirect_uris: [`http://localhost:${port}/auth/callback/authkestra`],
            },
          ],
          users: [
            { username: 'alice', password: 'wonderland', claims: { email: 'alice@example.com' } },
          ],
        }),
      )
      const quiet = { out: () => {}, err: () => {} }
      const idp = await startDevIdp(
        ['--port', '0', '--config', config, '--auto-login', 'alice'],
        quiet,
      )
      assert.ok(idp)
      idps.push(idp)
      let output = ''
      const child = spawn(process.execPath, ['--import', 'tsx', `examples/${adapter}.ts`], {
        cwd: root,
        env: {
          ...process.env,
          PORT: String(port),
          AUTH_ISSUER: idp.issuer,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      children.push(child)
      child.stdout?.on('data', (d) => {
        output += d
      })
      child.stderr?.on('data', (d) => {
        output += d
      })
      const app = `http://localhost:${port}`
      await waitFor(app, child, () => output)
      const jar = new CookieJar()
      const get = async (url: string) => {
        const cookie = jar.header()
        const response = await fetch(url, {
          redirect: 'manual',
          ...(cookie ? { headers: { cookie } } : {}),
        })
        jar.store(response)
        return response
      }
      assert.equal((await get(`${app}/me`)).status, 401)
      const login = await get(`${app}/auth/login/authkestra?returnTo=/me`)
      assert.equal(login.status, 302, output)
      const atIdp = await fetch(login.headers.get('location') ?? '', { redirect: 'manual' })
      const callback = await get(atIdp.headers.get('location') ?? '')
      assert.equal(callback.status, 302, await callback.text())
      assert.equal(callback.headers.get('location'), '/me')
      const me = await get(`${app}/me`)
      assert.equal(me.status, 200)
      assert.equal(((await me.json()) as { email: string }).email, 'alice@example.com')
    })
  }
})
