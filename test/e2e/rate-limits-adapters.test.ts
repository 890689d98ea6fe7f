/**
 * The engine's login-start limit (`rateLimits.loginStartsPerIp`) through every adapter, over real
 * HTTP on loopback: each mount hands the engine the socket's address, so the fourth start of a
 * 3-per-60-s rule is 429 with `Retry-After` (a page, or JSON by `Accept`), a forged
 * X-Forwarded-For from a peer that is not a trusted proxy changes nothing, and behind a trusted
 * proxy each forwarded client has its own budget.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import {
  type RunningApp,
  type StartApp,
  startExpress,
  startExpress4,
  startFastify,
  startHono,
  startNodeHttp,
} from './helpers/adapters/apps.ts'
import { type RunningIdp, startIdp } from './helpers/adapters/idp.ts'
import { wire } from './helpers/adapters/wiring.ts'

const MOUNTS: readonly [string, StartApp][] = [
  ['node:http (raw handler)', startNodeHttp],
  ['express', startExpress],
  ['express 4', startExpress4],
  ['fastify', startFastify],
  ['hono', startHono],
]
const RULE = { limit: 3, windowSeconds: 60 }

let idp: RunningIdp
const plain = new Map<string, RunningApp>()
const proxied = new Map<string, RunningApp>()

before(async () => {
  idp = await startIdp()
  for (const [name, start] of MOUNTS) {
    plain.set(
      name,
      await start((origin) => wire(idp, origin, { rateLimits: { loginStartsPerIp: RULE } })),
    )
    proxied.set(
      name,
      await start((origin) =>
        wire(idp, origin, { rateLimits: { loginStartsPerIp: RULE }, trustedProxies: ['loopback'] }),
      ),
    )
  }
  await idp.configure([...plain.values(), ...proxied.values()].map((app) => app.origin))
})

after(async () => {
  await Promise.all([...plain.values(), ...proxied.values()].map((app) => app.close()))
  await idp.close()
})

const start = (app: RunningApp, headers: Record<string, string> = {}) =>
  fetch(`${app.origin}/auth/login/idp`, { redirect: 'manual', headers })

for (const [name] of MOUNTS) {
  describe(`login starts per client address through ${name}`, () => {
    it('refuses the fourth start with 429 and Retry-After, whatever X-Forwarded-For says', async () => {
      const app = plain.get(name) as RunningApp
      for (let i = 0; i < 3; i++) {
        const response = await start(app, { 'x-forwarded-for': `203.0.113.${i}` })
        assert.equal(response.status, 302, `start ${i + 1}`)
      }
      const page = await start(app, { 'x-forwarded-for': '203.0.113.99' })
      assert.equal(page.status, 429)
      assert.equal(page.headers.get('retry-after'), '20')
      assert.equal(page.headers.getSetCookie().length, 0, 'no flow cookie')
      assert.match(await page.text(), /Too many sign-in attempts/)
      const json = await start(app, { accept: 'application/json' })
      assert.equal(json.status, 429)
      assert.equal(((await json.json()) as { error: string }).error, 'rate_limited')
    })

    it('behind a trusted proxy, counts each forwarded client on its own', async () => {
      const app = proxied.get(name) as RunningApp
      for (let i = 0; i < 3; i++)
        assert.equal((await start(app, { 'x-forwarded-for': '198.51.100.1' })).status, 302)
      assert.equal((await start(app, { 'x-forwarded-for': '198.51.100.1' })).status, 429)
      // a client cannot pick another budget by prepending addresses of its own
      assert.equal((await start(app, { 'x-forwarded-for': '10.9.9.9, 198.51.100.1' })).status, 429)
      assert.equal((await start(app, { 'x-forwarded-for': '198.51.100.2' })).status, 302)
    })
  })
}
