// Single logout across both sides, over real HTTP on loopback: two apps (two engines, each its
// own client of our OP with a backchannel_logout_uri) sign the same browser in through the OP's
// login form; the user signs out at the OP (its confirmation form); the OP POSTs a logout token to
// each app, and both apps' sessions are gone. The first app keeps server-side sessions, the
// second is stateless (its JWT is revoked). The apps run on the Node-native path
// (engineRequest → auth.handleMessage → writeMessage), which is what the Express and Fastify
// adapters use.
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { serve } from '../../src/dev-idp/serve.ts'
import {
  createAuthkestra,
  createMemoryRevocationStore,
  type SessionAuthkestra,
  type StatelessAuthkestra,
} from '../../src/index.ts'
import { engineRequest, writeMessage } from '../../src/node/web.ts'
import { createOp, type Op } from '../../src/op/create-op.ts'
import type { OpRequest } from '../../src/op/http/message.ts'
import { oidc } from '../../src/providers/oidc.ts'
import { CookieJar } from '../helpers/cookie-jar.ts'
import { loginThroughForm } from '../helpers/login-form.ts'

type Auth = SessionAuthkestra<unknown> | StatelessAuthkestra<unknown>

interface App {
  readonly server: Server
  readonly origin: string
  auth?: Auth
}

async function startApp(): Promise<App> {
  const app: { server?: Server; origin: string; auth?: Auth } = { origin: '' }
  const server = createServer((req, res) => {
    const request = engineRequest('http', req.headers.host, req.url ?? '/', req, {
      web: () => undefined,
    })
    if (!request || !app.auth) return void res.writeHead(400).end()
    app.auth.handleMessage(request).then((response) => writeMessage(response, res))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  app.server = server
  app.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return app as App
}

describe('single logout: the OP ends the session, both apps hear it over the back channel', () => {
  let op: Op
  let opServer: Server
  const apps: App[] = []

  before(async () => {
    apps.push(await startApp(), await startApp())
    let ready: (h: { message: (m: OpRequest) => ReturnType<Op['handleMessage']> }) => void =
      () => {}
    opServer = await serve(new Promise((resolve) => (ready = resolve)), {
      host: '127.0.0.1',
      port: 0,
    })
    const issuer = `http://127.0.0.1:${(opServer.address() as AddressInfo).port}`
    const client = (app: App, i: number) => ({
      client_id: `app-${i}`,
      client_secret: `app-${i}-secret-0123456789abcdefghijklmno`,
      redirect_uris: [`${app.origin}/auth/callback/idp`],
      backchannel_logout_uri: `${app.origin}/auth/backchannel-logout/idp`,
      // The stateless app takes logout tokens without sid too (op.logoutUser sends those).
      backchannel_logout_session_required: i === 0,
      skip_consent: true,
    })
    op = await createOp({
      issuer,
      logger: { warn: () => {}, error: () => {} },
      clients: apps.map(client),
      accounts: [{ username: 'alice', password: 'wonderland' }],
    })
    ready({ message: (m) => op.handleMessage(m) })
    apps.forEach((app, i) => {
      const config = {
        providers: [
          oidc({
            id: 'idp',
            issuer,
            clientId: `app-${i}`,
            clientSecret: `app-${i}-secret-0123456789abcdefghijklmno`,
            redirectUri: `${app.origin}/auth/callback/idp`,
            // signIn() loads the authorization URL twice; a pushed one is good for one load.
            par: false,
            backchannelLogout: true,
          }),
        ],
        secret: 'single-logout-test-secret-0123456789abcdef',
      }
      app.auth =
        i === 0
          ? createAuthkestra<unknown>({ ...config, session: {} })
          : createAuthkestra<unknown>({
              ...config,
              jwt: { revocations: createMemoryRevocationStore() },
            })
    })
  })

  after(() => {
    for (const server of [opServer, ...apps.map((a) => a.server)]) {
      server.closeAllConnections()
      server.close()
    }
  })

  /** Signs the browser (OP cookies in `jar`) in to `app`; returns the app's session cookie. */
  async function signIn(app: App, jar: CookieJar): Promise<string> {
    const login = await fetch(`${app.origin}/auth/login/idp`, { redirect: 'manual' })
    const flow = login.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ')
    const start = new URL(login.headers.get('location') ?? '')
    // Already signed in at the OP (the second app): straight back with a code, no form.
    const atOp = await fetch(start, { headers: { cookie: jar.header() ?? '' }, redirect: 'manual' })
    const next = new URL(atOp.headers.get('location') ?? '', start)
    const callback = next.href.startsWith(`${app.origin}/auth/callback/idp`)
      ? next
      : (await loginThroughForm(start, { username: 'alice', password: 'wonderland', jar })).callback
    const done = await fetch(callback, { headers: { cookie: flow }, redirect: 'manual' })
    assert.equal(done.status, 302)
    const session = done.headers
      .getSetCookie()
      .find((c) => c.startsWith('ak_session=') || c.startsWith('ak_token='))
    assert.ok(session)
    return session.split(';')[0] as string
  }

  const sessionAt = async (app: App, cookie: string) =>
    (await fetch(`${app.origin}/auth/session`, { headers: { cookie } })).status

  /** The user signs out at the OP: its confirmation form (no id_token_hint from an app). */
  async function signOutAtOp(jar: CookieJar): Promise<Response> {
    const ask = await fetch(`${op.issuer}/logout`, { headers: { cookie: jar.header() ?? '' } })
    const html = await ask.text()
    const field = (name: string) =>
      new RegExp(`name="${name}" value="([^"]+)"`).exec(html)?.[1] ?? ''
    return fetch(`${op.issuer}/logout/confirm`, {
      method: 'POST',
      headers: { cookie: jar.header() ?? '', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ uid: field('uid'), csrf: field('csrf'), decision: 'logout' }),
    })
  }

  it('signs out of the OP once; both apps’ sessions end (a session, a stateless token)', async () => {
    const jar = new CookieJar()
    const [one, two] = apps as [App, App]
    const first = await signIn(one, jar)
    const second = await signIn(two, jar)
    assert.equal(await sessionAt(one, first), 200)
    assert.equal(await sessionAt(two, second), 200)

    const confirmed = await signOutAtOp(jar)
    assert.equal(confirmed.status, 200)
    await op.logoutDeliveriesSettled()
    assert.equal(await sessionAt(one, first), 401, 'app 1 heard the logout token')
    assert.equal(await sessionAt(two, second), 401, 'app 2 heard the logout token')
  })

  it('ends only the sessions of that OP session: another browser stays signed in', async () => {
    for (const app of apps) {
      const mine = new CookieJar()
      const theirs = new CookieJar()
      const myCookie = await signIn(app, mine)
      const theirCookie = await signIn(app, theirs)
      await signOutAtOp(mine)
      await op.logoutDeliveriesSettled()
      assert.equal(await sessionAt(app, myCookie), 401)
      assert.equal(await sessionAt(app, theirCookie), 200, 'the other browser’s sid was not named')
    }
  })

  it('stateless: a refreshed token of the login ends with it; a later login is not revoked', async () => {
    const two = apps[1] as App
    const jar = new CookieJar()
    const before = await signIn(two, jar)
    const refresh = await fetch(`${two.origin}/auth/refresh`, {
      method: 'POST',
      headers: { cookie: before, origin: two.origin },
    })
    assert.equal(refresh.status, 200)
    const refreshed = refresh.headers.getSetCookie()[0]?.split(';')[0] as string
    assert.notEqual(refreshed, before)
    assert.equal(await sessionAt(two, refreshed), 200)
    await signOutAtOp(jar)
    await op.logoutDeliveriesSettled()
    assert.equal(await sessionAt(two, before), 401)
    assert.equal(await sessionAt(two, refreshed), 401, 'the refreshed token kept the provider sid')
    const after = await signIn(two, jar)
    assert.equal(await sessionAt(two, after), 200)
  })

  it('stateless: an admin logout of the user (a token with sub, no sid) ends every browser’s token', async () => {
    const two = apps[1] as App
    const cookies = [await signIn(two, new CookieJar()), await signIn(two, new CookieJar())]
    const session = await fetch(`${two.origin}/auth/session`, {
      headers: { cookie: cookies[0] as string },
    })
    const { subject } = (await session.json()) as { subject: string }
    await op.logoutUser(subject)
    await op.logoutDeliveriesSettled()
    for (const cookie of cookies) assert.equal(await sessionAt(two, cookie), 401)
    assert.equal(await sessionAt(two, await signIn(two, new CookieJar())), 200, 'a later login')
  })
})
