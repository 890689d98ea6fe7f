// Property-based fuzzing of the engine's routes (/auth/login/:p, /auth/callback/:p, /auth/logout,
// /auth/logout-everywhere, /auth/refresh, /auth/session, /auth/providers) in session and
// stateless modes, wired to a real OP on loopback:
// random paths, methods, queries, cookies (forged session and flow cookies) and headers never make
// the handler throw or answer 5xx, never set a session cookie or issue a token, and every
// Location is a same-origin path or the provider's authorization endpoint. A second property
// mutates one part of a real callback: only the exact callback, with its flow cookie, signs in.
// FUZZ_RUNS sets the runs per property; FUZZ_STATS=1 prints how often each route answered what.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import fc from 'fast-check'
import { flowCookieName } from '../../src/engine/cookie-policy.ts'
import {
  APP,
  AppBrowser,
  idpProvider,
  jwtEngine,
  type RunningIdp,
  sessionEngine,
  startIdp,
} from '../engine/helpers/setup.ts'
import {
  bodyArb,
  buildRequest,
  contentTypeArb,
  METHODS,
  NUM_RUNS,
  type RawRequest,
  rawPairsArb,
  valueArb,
} from './helpers/arbitraries.ts'

const SESSION_COOKIES = ['ak_session', '__Host-ak_session', 'ak_token', '__Host-ak_token']

let idp: RunningIdp
const STATS = new Map<string, number>()
let engines: [string, (r: Request) => Promise<Response>][]
/** A sealed flow cookie of a real (other) login, to forge with. */
let realFlow: { name: string; value: string; state: string }

before(async () => {
  idp = await startIdp()
  engines = [
    ['session', sessionEngine(idp.issuer).handler],
    ['jwt cookie', jwtEngine(idp.issuer).handler],
    ['jwt json', jwtEngine(idp.issuer, { delivery: 'json' }).handler],
    [
      'session, logout at the provider',
      sessionEngine(
        idp.issuer,
        {},
        {
          providers: [
            {
              ...idpProvider(idp.issuer),
              postLogoutRedirectUri: `${APP}/auth/logout-callback/idp`,
              backchannelLogout: true,
              frontchannelLogout: true,
            },
          ],
        },
      ).handler,
    ],
  ]
  const browser = new AppBrowser(engines[0]?.[1] as (r: Request) => Promise<Response>)
  const { authorizationUrl } = await browser.startLogin()
  const [name, cookie] = [...browser.cookies].find(([n]) => n.startsWith('ak_flow_')) ?? []
  assert.ok(name && cookie)
  realFlow = { name, value: cookie.value, state: authorizationUrl.searchParams.get('state') ?? '' }
})
after(async () => {
  if (process.env.FUZZ_STATS)
    console.log(
      [...STATS]
        .sort((a, b) => b[1] - a[1])
        .map(([k, n]) => `${n} ${k}`)
        .join('\n'),
    )
  await idp.close()
})

/** Whether a Set-Cookie line sets (not clears) a session or token cookie. */
function setsSession(line: string): boolean {
  const [pair = '', ...attrs] = line.split(';').map((s) => s.trim())
  const eq = pair.indexOf('=')
  const name = pair.slice(0, eq)
  const value = pair.slice(eq + 1)
  if (!SESSION_COOKIES.includes(name) && !name.startsWith('ak_s')) return false
  return value !== '' && !attrs.includes('Max-Age=0')
}

/** A Location that stays on the app (a path, not `//host` or `/\host`) or goes to the OP. */
function allowedLocation(location: string, requestUrl: string): boolean {
  if (location.startsWith(`${idp.issuer}/authorize?`)) return true
  if (!/^\/(?![/\\])/.test(location)) return false
  const origin = new URL(requestUrl).origin
  return new URL(location, origin).origin === origin
}

const PATHS = [
  'login',
  'callback',
  'logout',
  'logout-everywhere',
  'logout-callback',
  'backchannel-logout',
  'frontchannel-logout',
  'refresh',
  'session',
  'providers',
  'signin',
  'signed-out',
  'idp',
  'x',
  '',
  '..',
  '%2F',
]

function pathArb(): fc.Arbitrary<string> {
  const segment = fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...PATHS) },
    { weight: 1, arbitrary: fc.string({ maxLength: 10 }).map(encodeURIComponent) },
  )
  return fc.oneof(
    {
      weight: 4,
      arbitrary: fc.constantFrom(
        '/auth/login/idp',
        '/auth/callback/idp',
        '/auth/logout',
        '/auth/logout-everywhere',
        '/auth/logout-callback/idp',
        '/auth/backchannel-logout/idp',
        '/auth/frontchannel-logout/idp',
        '/auth/refresh',
        '/auth/session',
        '/auth/providers',
        '/auth/signin',
        '/auth/signed-out',
      ),
    },
    {
      weight: 3,
      arbitrary: fc
        .array(segment, { minLength: 1, maxLength: 4 })
        .map((segs) => `/auth/${segs.join('/')}`),
    },
    { weight: 1, arbitrary: fc.constantFrom('/', '/auth', '/authx/login/idp', '//auth/login/idp') },
  )
}

function requestArb(): fc.Arbitrary<RawRequest & { origin: string }> {
  const values = [
    realFlow.state,
    'code-0123',
    idp.issuer,
    `${idp.issuer}/`,
    'https://evil.example',
    '/dashboard',
    '//evil.example/x',
    '/\\evil.example',
    'https://evil.example/x',
    '/%2F%2Fevil.example',
    'access_denied',
    'idp',
  ]
  const pairs = rawPairsArb(
    [
      'state',
      'code',
      'iss',
      'error',
      'error_description',
      'returnTo',
      'session_state',
      'scope',
      'logout_token',
      'sid',
    ],
    values,
  )
  const flowNames = [
    realFlow.name,
    'ak_flow_AAAAAAAAAAAAAAAA',
    'ak_logout',
    '__Host-ak_logout',
    ...SESSION_COOKIES,
  ]
  const cookie = fc.option(
    fc
      .array(
        fc
          .tuple(
            fc.oneof(fc.constantFrom(...flowNames), fc.string({ maxLength: 8 })),
            fc.oneof(fc.constant(realFlow.value), valueArb(['eyJhbGciOiJIUzI1NiJ9.e30.x'])),
          )
          .map(([n, v]) => `${n}=${v}`),
        { minLength: 1, maxLength: 4 },
      )
      .map((p) => p.join('; ')),
    { nil: undefined },
  )
  return fc.record({
    origin: fc.constantFrom(APP, APP, 'https://app.example', 'http://127.0.0.1:3000'),
    method: fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom('GET', 'POST') },
      { weight: 1, arbitrary: fc.constantFrom(...METHODS) },
    ),
    path: pathArb(),
    query: fc.oneof(fc.constant(''), pairs),
    body: bodyArb(pairs),
    headers: fc.record({
      'content-type': contentTypeArb,
      cookie,
      authorization: fc.option(
        fc.constantFrom(
          'Bearer eyJhbGciOiJIUzI1NiJ9.e30.x',
          'Bearer ',
          'Basic YTpi',
          'Bearer a.b.c',
        ),
        { nil: undefined },
      ),
      accept: fc.constantFrom(
        undefined,
        'application/json',
        'text/html',
        'application/json, text/html',
      ),
      origin: fc.constantFrom(undefined, APP, 'https://evil.example', 'null'),
      'sec-fetch-site': fc.constantFrom(undefined, 'same-origin', 'cross-site'),
    }),
  })
}

async function checkResponse(
  handler: (r: Request) => Promise<Response>,
  raw: RawRequest,
  request: Request,
): Promise<void> {
  let response: Response
  try {
    response = await handler(request)
  } catch (err) {
    assert.fail(`handler threw: ${err instanceof Error ? err.stack : String(err)}`)
  }
  const path = new URL(request.url).pathname
  if (process.env.FUZZ_STATS) {
    const k = `${raw.method} ${path.length > 24 ? `${path.slice(0, 24)}…` : path} ${response.status}`
    STATS.set(k, (STATS.get(k) ?? 0) + 1)
  }
  assert.ok(response.status < 500, `${raw.method} ${path}: ${response.status}`)
  for (const line of response.headers.getSetCookie()) {
    assert.ok(!setsSession(line), `${raw.method} ${path} set a session: ${line.slice(0, 40)}`)
  }
  const location = response.headers.get('location')
  if (response.status >= 300 && response.status < 400) {
    assert.ok(location !== null, 'a redirect without Location')
    assert.ok(allowedLocation(location, request.url), `${path} redirected to ${location}`)
  }
  const text = await response.text()
  assert.ok(!text.includes('access_token'), `${path} issued a token`)
  if (path === '/auth/session' || path === '/auth/refresh' || path === '/auth/logout-everywhere')
    assert.ok(response.status >= 300, `a forged credential was accepted at ${path}`)
  if (path.startsWith('/auth/callback')) {
    assert.ok(response.status >= 400, `a random callback answered ${response.status}`)
  }
}

describe('engine routes under fuzzed requests', () => {
  for (const mode of ['session', 'jwt cookie', 'jwt json', 'session, logout at the provider']) {
    it(`never throw, 5xx, sign in, or redirect off-site (${mode})`, async () => {
      const handler = (
        engines.find(([m]) => m === mode) as [string, (r: Request) => Promise<Response>]
      )[1]
      await fc.assert(
        fc.asyncProperty(requestArb(), async ({ origin, ...raw }) => {
          const request = buildRequest(origin, raw)
          if (!request) return
          await checkResponse(handler, raw, request)
        }),
        { numRuns: NUM_RUNS },
      )
    })
  }

  for (const secure of [false, true]) {
    it(`a callback with random params and a forged flow cookie named after its state never signs in (${secure ? 'Secure: __Host- names, and planted unprefixed ones' : 'http://localhost'})`, async () => {
      const handler = secure
        ? sessionEngine(idp.issuer, {}, { secureCookies: true }).handler
        : (engines[0]?.[1] as (r: Request) => Promise<Response>)
      const state = fc.oneof(fc.constant(realFlow.state), fc.string({ maxLength: 80 }))
      await fc.assert(
        fc.asyncProperty(
          state,
          fc.oneof(fc.constant(realFlow.value), valueArb([]), fc.constant(`${realFlow.value}x`)),
          rawPairsArb(['code', 'iss', 'error', 'returnTo'], ['code', idp.issuer, 'x']),
          fc.boolean(),
          async (st, flowValue, extra, planted) => {
            // A planted cookie is what a sibling domain or a plain-http answer can set: no prefix.
            const name = await flowCookieName(st, secure && !planted)
            const raw: RawRequest = {
              method: 'GET',
              path: '/auth/callback/idp',
              query: `${new URLSearchParams({ state: st })}${extra ? `&${extra}` : ''}`,
              body: undefined,
              headers: { cookie: `${name}=${flowValue}` },
            }
            const request = buildRequest(APP, raw)
            if (!request) return
            await checkResponse(handler, raw, request)
          },
        ),
        { numRuns: NUM_RUNS },
      )
    })
  }
})

type Callback = { url: URL; cookie: string }
type Mutation = { name: string; apply: (c: Callback, other: Callback) => Callback }

function setParam(name: string, value: string | undefined): Mutation['apply'] {
  return (c) => {
    const url = new URL(c.url)
    if (value === undefined) url.searchParams.delete(name)
    else url.searchParams.set(name, value)
    return { ...c, url }
  }
}

function mutationArb(): fc.Arbitrary<Mutation> {
  const param = fc.constantFrom('code', 'state', 'iss')
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant({ name: 'none', apply: (c: Callback) => c }) },
    fc
      .tuple(param, fc.string({ maxLength: 40 }))
      .map(([p, v]) => ({ name: `${p}=junk`, apply: setParam(p, v) })),
    param.map((p) => ({ name: `drop ${p}`, apply: setParam(p, undefined) })),
    param.map((p) => ({
      name: `tweak ${p}`,
      apply: (c: Callback) => setParam(p, `${c.url.searchParams.get(p)}x`)(c, c),
    })),
    param.map((p) => ({
      name: `duplicate ${p}`,
      apply: (c: Callback) => {
        const url = new URL(c.url)
        url.searchParams.append(p, url.searchParams.get(p) ?? '')
        return { ...c, url }
      },
    })),
    fc.constantFrom<Mutation>(
      {
        name: 'other login code',
        apply: (c, o) => setParam('code', o.url.searchParams.get('code') ?? '')(c, o),
      },
      { name: 'other flow cookie', apply: (c, o) => ({ ...c, cookie: o.cookie }) },
      { name: 'no flow cookie', apply: (c) => ({ ...c, cookie: '' }) },
      {
        name: 'tampered flow cookie',
        apply: (c) => ({ ...c, cookie: `${c.cookie.slice(0, -2)}AA` }),
      },
      { name: 'error added', apply: setParam('error', 'access_denied') },
      {
        name: 'other provider path',
        apply: (c) => ({
          ...c,
          url: new URL(c.url.href.replace('/callback/idp', '/callback/other')),
        }),
      },
      { name: 'iss of another issuer', apply: setParam('iss', 'https://evil.example') },
    ),
  )
}

describe('the engine callback around a real login', () => {
  it('only the exact callback with its own flow cookie signs in, once', async () => {
    const handler = engines[0]?.[1] as (r: Request) => Promise<Response>
    const login = async (): Promise<Callback> => {
      const browser = new AppBrowser(handler)
      const { callback } = await browser.startLogin()
      const flow = [...browser.cookies].find(([n]) => n.startsWith('ak_flow_'))
      assert.ok(flow)
      return { url: callback, cookie: `${flow[0]}=${flow[1].value}` }
    }
    await fc.assert(
      fc.asyncProperty(mutationArb(), async ({ name, apply }) => {
        const real = await login()
        const other = await login()
        const sent = apply(real, other)
        const exact = sent.url.href === real.url.href && sent.cookie === real.cookie
        const call = () =>
          handler(new Request(sent.url, { headers: sent.cookie ? { cookie: sent.cookie } : {} }))
        const first = await call()
        assert.ok(first.status < 500, `${name}: ${first.status}`)
        const signedIn = first.headers.getSetCookie().some(setsSession)
        assert.equal(signedIn, exact, `${name}: signed in ${signedIn}, status ${first.status}`)
        if (exact) assert.equal(first.headers.get('location'), '/')
        const replay = await call()
        assert.ok(!replay.headers.getSetCookie().some(setsSession), `${name}: the replay signed in`)
        assert.ok(replay.status >= 400 && replay.status < 500, `${name} replay: ${replay.status}`)
      }),
      { numRuns: Math.max(1, Math.ceil(NUM_RUNS / 4)) },
    )
  })
})
