// Table-driven hostile inputs for every engine route: each row asserts the exact status and error
// code, that no session was created, and that nothing the request carried is echoed back.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { APP, AppBrowser, type RunningIdp, sessionEngine, startIdp } from './helpers/setup.ts'

let idp: RunningIdp
before(async () => {
  idp = await startIdp()
})
after(() => idp.close())

const BIG = 'x'.repeat(100_000)
const UNICODE = '𝔘𝔫𝔦𝔠𝔬𝔡𝔢-\u202e-Ω'

interface Row {
  name: string
  path: string
  init?: RequestInit
  /** Run a real login first and use its callback (for rows that tamper with it). */
  tamper?: (callback: URL, browser: AppBrowser) => void
  status: number
  error: string
}

const rows: Row[] = [
  // login
  { name: 'login: unknown provider', path: '/auth/login/nope', status: 404, error: 'not_found' },
  {
    name: 'login: POST instead of GET',
    path: '/auth/login/idp',
    init: { method: 'POST' },
    status: 404,
    error: 'not_found',
  },
  {
    name: 'login: extra path segment',
    path: '/auth/login/idp/extra',
    status: 404,
    error: 'not_found',
  },
  // callback
  {
    name: 'callback: no parameters',
    path: '/auth/callback/idp',
    status: 400,
    error: 'callback_invalid',
  },
  {
    name: 'callback: duplicated state',
    path: '/auth/callback/idp?state=a&state=b&code=c',
    status: 400,
    error: 'callback_invalid',
  },
  {
    name: 'callback: 100 KB state',
    path: `/auth/callback/idp?state=${BIG}&code=c`,
    status: 400,
    error: 'callback_invalid',
  },
  {
    name: 'callback: unicode state without a flow cookie',
    path: `/auth/callback/idp?state=${encodeURIComponent(UNICODE)}&code=c`,
    status: 400,
    error: 'flow_state_malformed',
  },
  {
    name: 'callback: unknown provider',
    path: '/auth/callback/nope?state=a&code=c',
    status: 404,
    error: 'not_found',
  },
  {
    name: 'callback: garbage in the flow cookie',
    path: '',
    tamper: (_cb, browser) => {
      for (const [name, cookie] of browser.cookies)
        if (name.startsWith('ak_flow_'))
          browser.cookies.set(name, { ...cookie, value: 'garbage.garbage.garbage.garbage.garbage' })
    },
    status: 400,
    error: 'flow_state_malformed',
  },
  {
    name: 'callback: duplicated code',
    path: '',
    tamper: (cb) => cb.searchParams.append('code', 'second'),
    status: 400,
    error: 'callback_invalid',
  },
  {
    name: 'callback: 100 KB code',
    path: '',
    tamper: (cb) => cb.searchParams.set('code', BIG),
    status: 400,
    error: 'callback_invalid',
  },
  {
    name: 'callback: an added error',
    path: '',
    tamper: (cb) => cb.searchParams.set('error', 'access_denied'),
    status: 403,
    error: 'authorization_error',
  },
  {
    name: 'callback: iss of another issuer',
    path: '',
    tamper: (cb) => cb.searchParams.set('iss', 'https://evil.example'),
    status: 400,
    error: 'issuer_mismatch',
  },
  // logout
  {
    name: 'logout: no Origin',
    path: '/auth/logout',
    init: { method: 'POST' },
    status: 403,
    error: 'forbidden_origin',
  },
  {
    name: 'logout: foreign Origin',
    path: '/auth/logout',
    init: { method: 'POST', headers: { origin: 'https://evil.example' } },
    status: 403,
    error: 'forbidden_origin',
  },
  {
    name: 'logout: Origin "null"',
    path: '/auth/logout',
    init: { method: 'POST', headers: { origin: 'null' } },
    status: 403,
    error: 'forbidden_origin',
  },
  {
    name: 'logout: cross-site fetch metadata',
    path: '/auth/logout',
    init: { method: 'POST', headers: { 'sec-fetch-site': 'cross-site' } },
    status: 403,
    error: 'forbidden_origin',
  },
  {
    name: 'logout: malformed JSON body from another origin',
    path: '/auth/logout',
    init: {
      method: 'POST',
      headers: { origin: 'https://evil.example', 'content-type': 'application/json' },
      body: '{"a":',
    },
    status: 403,
    error: 'forbidden_origin',
  },
  // logout everywhere
  {
    name: 'logout-everywhere: foreign Origin',
    path: '/auth/logout-everywhere',
    init: { method: 'POST', headers: { origin: 'https://evil.example' } },
    status: 403,
    error: 'forbidden_origin',
  },
  {
    name: 'logout-everywhere: same origin, no session',
    path: '/auth/logout-everywhere',
    init: { method: 'POST', headers: { origin: APP } },
    status: 401,
    error: 'unauthorized',
  },
  {
    name: 'logout-everywhere: same origin, forged 100 KB session cookie',
    path: '/auth/logout-everywhere',
    init: { method: 'POST', headers: { origin: APP, cookie: `ak_session=${BIG}` } },
    status: 401,
    error: 'unauthorized',
  },
  {
    name: 'logout-everywhere: GET',
    path: '/auth/logout-everywhere',
    status: 404,
    error: 'not_found',
  },
  {
    name: 'logout-everywhere: extra segment',
    path: '/auth/logout-everywhere/evil.example',
    init: { method: 'POST', headers: { origin: APP } },
    status: 404,
    error: 'not_found',
  },
  // refresh exists in stateless mode only
  {
    name: 'refresh: in session mode',
    path: '/auth/refresh',
    init: { method: 'POST', headers: { origin: APP } },
    status: 404,
    error: 'not_found',
  },
  // session
  { name: 'session: no cookie', path: '/auth/session', status: 401, error: 'unauthorized' },
  {
    name: 'session: forged cookie',
    path: '/auth/session',
    init: { headers: { cookie: `ak_session=${'A'.repeat(43)}` } },
    status: 401,
    error: 'unauthorized',
  },
  {
    name: 'session: 100 KB cookie',
    path: '/auth/session',
    init: { headers: { cookie: `ak_session=${BIG}` } },
    status: 401,
    error: 'unauthorized',
  },
  {
    name: 'session: unicode cookie',
    path: '/auth/session',
    init: { headers: { cookie: `ak_session=${encodeURIComponent(UNICODE)}` } },
    status: 401,
    error: 'unauthorized',
  },
  {
    name: 'session: POST',
    path: '/auth/session',
    init: { method: 'POST' },
    status: 404,
    error: 'not_found',
  },
  // providers
  {
    name: 'providers: POST',
    path: '/auth/providers',
    init: { method: 'POST' },
    status: 404,
    error: 'not_found',
  },
]

describe('engine routes under hostile input', () => {
  for (const row of rows) {
    it(`${row.name} → ${row.status} ${row.error}`, async () => {
      const auth = sessionEngine(idp.issuer)
      const browser = new AppBrowser(auth.handler)
      let url = new URL(row.path || '/', APP)
      if (row.tamper) {
        const { callback } = await browser.startLogin()
        row.tamper(callback, browser)
        url = callback
      }
      const headers = new Headers(row.init?.headers)
      headers.set('accept', 'application/json')
      const response = await browser.request(url.href, { ...row.init, headers })
      assert.equal(response.status, row.status)
      const text = await response.text()
      assert.equal((JSON.parse(text) as { error: string }).error, row.error)
      assert.ok(!browser.cookies.has('ak_session'), 'no session')
      assert.ok(
        !response.headers
          .getSetCookie()
          .some((c) => c.startsWith('ak_session=') && !c.includes('Max-Age=0')),
      )
      for (const planted of [
        BIG.slice(0, 64),
        UNICODE,
        'garbage.garbage',
        'evil.example',
        'second',
      ]) {
        assert.ok(!text.includes(planted), `${row.name}: the body echoes "${planted}"`)
      }
      assert.equal(response.headers.get('cache-control'), 'no-store')
    })
  }
})
