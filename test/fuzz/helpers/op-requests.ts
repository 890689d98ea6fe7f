// What the OP fuzzer sends: raw requests to any path (requestArb) and well-formed requests with
// plausible values (shapedArb), both carrying the planted code, tokens and interaction uid.
import fc from 'fast-check'
import {
  authorizationArb,
  bodyArb,
  contentTypeArb,
  cookieArb,
  METHODS,
  type RawRequest,
  rawPairsArb,
} from './arbitraries.ts'
import {
  CLIENTS,
  CUSTOM_GRANT,
  FUZZ_RESOURCE,
  ISSUER,
  JWT_BEARER,
  type OpWorld,
  PASSWORD,
  REDIRECTS,
  SIGNED_OUT,
  WEB_REDIRECT,
} from './op-world.ts'

const BASE = new URL(ISSUER).pathname
const ORIGIN = new URL(ISSUER).origin

const PARAM_KEYS = [
  'id_token_hint',
  'post_logout_redirect_uri',
  'ui_locales',
  'uid',
  'csrf',
  'decision',
  'response_type',
  'client_id',
  'redirect_uri',
  'scope',
  'resource',
  'state',
  'nonce',
  'code_challenge',
  'code_challenge_method',
  'prompt',
  'max_age',
  'login_hint',
  'response_mode',
  'request',
  'request_uri',
  'grant_type',
  'code',
  'code_verifier',
  'refresh_token',
  'client_secret',
  'client_assertion',
  'client_assertion_type',
  'token',
  'token_type_hint',
  'access_token',
  'username',
  'password',
  'csrf',
  'uid',
  'iss',
  'device_code',
  'user_code',
  'subject_token',
  'subject_token_type',
  'actor_token',
  'actor_token_type',
  'audience',
  'resource',
  'requested_token_type',
  'acr_values',
  'claims',
  'response',
  'credential',
  'name',
]

export interface Planted {
  code: string
  refreshToken: string
  accessToken: string
  idToken: string
  uid: string
  /** Well-formed DPoP proofs (for the token and userinfo endpoints, and for elsewhere). */
  proofs: string[]
  /** Client assertions of the `signer` client: sound (each usable once), mangled, another's. */
  assertions: string[]
}

/** A `DPoP` header: none mostly; a real proof, two joined, a mangled one, or noise. */
function dpopArb(planted: Planted): fc.Arbitrary<string | undefined> {
  const proof = fc.constantFrom(...planted.proofs)
  return fc.oneof(
    { weight: 6, arbitrary: fc.constant(undefined) },
    { weight: 2, arbitrary: proof },
    fc.tuple(proof, proof).map(([a, b]) => `${a}, ${b}`),
    fc
      .tuple(proof, fc.nat(), fc.string({ minLength: 1, maxLength: 3 }))
      .map(([p, at, junk]) => p.slice(0, at % p.length) + junk + p.slice(at % p.length)),
    fc.string({ maxLength: 40 }),
  )
}

/** A live interaction uid at the form OP, to forge cookies for. */
export async function liveInteraction(world: OpWorld): Promise<string> {
  const url = new URL(`${ISSUER}/authorize`)
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: CLIENTS.spa.id,
    redirect_uri: REDIRECTS[1],
    scope: 'openid',
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    code_challenge_method: 'S256',
  }).toString()
  const res = await world.op.handler(new Request(url))
  const location = res.headers.get('location') ?? ''
  const uid = location.split('/interaction/')[1]
  if (!uid) throw new Error(`no interaction: ${res.status} ${location}`)
  return uid
}

/** Values random requests may carry: never a client secret or the access token (those are valid). */
export function pool(planted: Planted): string[] {
  return [
    'code',
    'token',
    'id_token',
    'code id_token',
    'authorization_code',
    'refresh_token',
    'client_credentials',
    'urn:ietf:params:oauth:grant-type:device_code',
    ...Object.values(CLIENTS).map((c) => c.id),
    ...REDIRECTS,
    SIGNED_OUT,
    `${SIGNED_OUT}?x=1`,
    `${WEB_REDIRECT}/x`,
    `${WEB_REDIRECT}?x=1`,
    `${WEB_REDIRECT}#f`,
    'HTTPS://RP.EXAMPLE/cb',
    'https://rp.example/cb/../cb',
    'https://rp.example.evil/cb',
    FUZZ_RESOURCE,
    `${FUZZ_RESOURCE}#f`,
    'openid',
    'openid offline_access',
    'openid profile email api:read',
    'S256',
    'plain',
    'none',
    'login',
    'consent',
    'none login',
    '0',
    '-1',
    'alice',
    PASSWORD,
    planted.code,
    planted.refreshToken,
    planted.idToken,
    planted.uid,
    'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk',
    'mfa',
    'sfa phr',
    'bob',
    '123456',
    'aaaaa-bbbbb',
    '{"id_token":{"acr":{"essential":true,"values":["mfa"]}}}',
    '{"id_token":{"acr":{"values":"mfa"}}}',
    '{"id":"x","response":{"clientDataJSON":"e30"}}',
    'null',
    JWT_BEARER,
    `${JWT_BEARER}x`,
    ...planted.assertions,
  ]
}

function pathArb(planted: Planted): fc.Arbitrary<string> {
  const uid = fc.oneof(
    fc.constant(planted.uid),
    fc.stringMatching(/^[A-Za-z0-9_-]{22}$/),
    fc.string({ maxLength: 30 }).map(encodeURIComponent),
  )
  return fc.oneof(
    fc.constantFrom(
      '/.well-known/openid-configuration',
      '/.well-known/oauth-authorization-server',
      `/.well-known/oauth-authorization-server${BASE}`,
      `${BASE}/.well-known/openid-configuration`,
      `${BASE}/jwks`,
      `${BASE}/authorize`,
      `${BASE}/authorize`,
      `${BASE}/token`,
      `${BASE}/token`,
      `${BASE}/token`,
      `${BASE}/userinfo`,
      `${BASE}/revoke`,
      `${BASE}/introspect`,
      `${BASE}/logout`,
      `${BASE}/logout`,
      `${BASE}/logout/confirm`,
      `${BASE}/device_authorization`,
      `${BASE}/par`,
      `${BASE}/device`,
      `${BASE}/interaction/`,
      `${BASE}`,
      '/',
    ),
    fc.constantFrom(
      `${BASE}/account`,
      `${BASE}/account/`,
      `${BASE}/account/totp`,
      `${BASE}/account/totp/confirm`,
      `${BASE}/account/recovery`,
      `${BASE}/account/remove`,
      `${BASE}/account/passkey`,
      `${BASE}/account/passkey/options`,
      `${BASE}/account/reauth`,
      `${BASE}/account/reauth/options`,
      `${BASE}/account/x`,
    ),
    fc
      .tuple(
        uid,
        fc.constantFrom(
          '',
          '/login',
          '/consent',
          '/abort',
          '/login/x',
          '/otp',
          '/passkey',
          '/passkey/options',
          '/passkey/x',
        ),
      )
      .map(([u, s]) => `${BASE}/interaction/${u}${s}`),
    fc.string({ maxLength: 20 }).map((s) => `${BASE}/${encodeURIComponent(s)}`),
  )
}

export function requestArb(planted: Planted): fc.Arbitrary<RawRequest> {
  const values = pool(planted)
  const pairs = rawPairsArb(PARAM_KEYS, values)
  const cookieNames = ['ak_op_session', 'ak_op_interaction', `ak_op_interaction_${planted.uid}`]
  const cookieValues = [planted.uid, planted.refreshToken, planted.code]
  return fc.record({
    method: fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom('GET', 'POST') },
      { weight: 1, arbitrary: fc.constantFrom(...METHODS) },
    ),
    path: pathArb(planted),
    query: fc.oneof(fc.constant(''), pairs),
    body: bodyArb(pairs),
    headers: fc.record({
      'content-type': contentTypeArb,
      authorization: authorizationArb(
        Object.values(CLIENTS).map((c) => c.id),
        [planted.refreshToken, planted.idToken, planted.code],
      ),
      cookie: cookieArb(cookieNames, cookieValues),
      dpop: dpopArb(planted),
      accept: fc.constantFrom(undefined, 'application/json', 'text/html', '*/*'),
      origin: fc.constantFrom(undefined, ORIGIN, 'https://evil.example', 'null'),
      'content-length': fc.constantFrom(undefined, undefined, undefined, '0', '99999999'),
    }),
  })
}

/** Well-formed requests with plausible values, so that checks past parsing are reached. */
export function shapedArb(planted: Planted): fc.Arbitrary<RawRequest> {
  const pick = (...values: string[]) =>
    fc.oneof({ weight: 12, arbitrary: fc.constantFrom(...values) }, fc.string({ maxLength: 12 }))
  const ids = Object.values(CLIENTS).map((c) => c.id)
  const fields = fc.record(
    {
      response_type: pick('code', 'token', 'code id_token'),
      client_id: pick(...ids, CLIENTS.spa.id, CLIENTS.spa.id),
      redirect_uri: pick(...pool(planted).filter((v) => v.includes('://'))),
      scope: pick('openid', 'openid offline_access', 'openid profile email api:read', 'api:read'),
      resource: pick(FUZZ_RESOURCE, `${FUZZ_RESOURCE}#f`, '/rel', 'https://evil.example/'),
      state: fc.string({ maxLength: 20 }),
      nonce: fc.string({ maxLength: 20 }),
      code_challenge: pick('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', 'short'),
      code_challenge_method: pick('S256', 'plain', 'S512'),
      prompt: pick('none', 'login', 'consent', 'none login'),
      max_age: pick('0', '-1', '99999999999999999999', '1.5'),
      grant_type: pick(
        'authorization_code',
        'refresh_token',
        'client_credentials',
        'urn:ietf:params:oauth:grant-type:device_code',
        'urn:ietf:params:oauth:grant-type:token-exchange',
        CUSTOM_GRANT,
        CUSTOM_GRANT,
      ),
      assertion: pick(planted.idToken, planted.code, 'partner-assertion'),
      subject_token: pick(planted.idToken, planted.refreshToken, planted.code),
      subject_token_type: pick(
        'urn:ietf:params:oauth:token-type:access_token',
        'urn:ietf:params:oauth:token-type:refresh_token',
        'urn:ietf:params:oauth:token-type:id_token',
        'urn:ietf:params:oauth:token-type:jwt',
      ),
      audience: pick('https://billing.example', ''),
      device_code: pick('d'.repeat(43), planted.code),
      user_code: pick('BCDF-GHJK', 'bcdfghjk', 'AAAA-AAAA', ''),
      csrf: pick('x'.repeat(43)),
      code: pick(planted.code, `${planted.code}x`),
      code_verifier: pick('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk', 'x'),
      refresh_token: pick(planted.refreshToken, planted.idToken),
      client_secret: pick('wrong', ''),
      client_assertion_type: pick(JWT_BEARER, `${JWT_BEARER}x`),
      client_assertion: pick(...planted.assertions),
      token: pick(planted.refreshToken, planted.idToken, planted.code),
      token_type_hint: pick('refresh_token', 'access_token', 'id_token'),
      id_token_hint: pick(planted.idToken, `${planted.idToken}x`),
      post_logout_redirect_uri: pick(...pool(planted).filter((v) => v.includes('://'))),
      ui_locales: pick('en', 'fr-CA en', ''),
    },
    {
      requiredKeys: [
        'response_type',
        'client_id',
        'redirect_uri',
        'scope',
        'code_challenge',
        'grant_type',
      ],
    },
  )
  return fc
    .record({
      method: fc.constantFrom('GET', 'POST'),
      path: fc.constantFrom(
        `${BASE}/authorize`,
        `${BASE}/token`,
        `${BASE}/token`,
        `${BASE}/revoke`,
        `${BASE}/introspect`,
        `${BASE}/userinfo`,
        `${BASE}/logout`,
        `${BASE}/device_authorization`,
        `${BASE}/par`,
        `${BASE}/device`,
      ),
      fields,
      align: fc.boolean(),
      headers: fc.record({
        'content-type': fc.constant('application/x-www-form-urlencoded'),
        authorization: fc.oneof(
          { weight: 3, arbitrary: fc.constant(undefined) },
          authorizationArb(ids, [planted.refreshToken, planted.idToken, 'wrong']),
          fc.constant(`Bearer ${planted.idToken}`),
        ),
        cookie: cookieArb(
          ['ak_op_session', 'ak_device_csrf'],
          [planted.uid, planted.refreshToken, 'x'.repeat(43)],
        ),
      }),
    })
    .map(({ method: m, path, fields: f, align, headers }) => {
      // half the time the redirect URI is the one registered for the client, to get past it
      const fields: Record<string, string> = { ...f }
      if (align) fields.redirect_uri = fields.client_id === 'spa' ? REDIRECTS[1] : WEB_REDIRECT
      // and a logout names the client with its registered post-logout URI, to reach the redirect
      if (align && path.endsWith('/logout')) {
        fields.client_id = CLIENTS.web.id
        fields.post_logout_redirect_uri = SIGNED_OUT
        delete fields.id_token_hint
      }
      // and a custom grant comes from the public client registered for it, to reach its handler
      let sent = headers
      if (fields.grant_type === CUSTOM_GRANT) {
        fields.client_id = CLIENTS.tv.id
        sent = { ...headers, authorization: undefined }
      }
      const method =
        path.endsWith('/authorize') ||
        path.endsWith('/userinfo') ||
        path.endsWith('/logout') ||
        path.endsWith('/device')
          ? m
          : 'POST'
      const encoded = new URLSearchParams(fields).toString()
      return method === 'GET'
        ? { method, path, query: encoded, body: undefined, headers: sent }
        : { method, path, query: '', body: encoded, headers: sent }
    })
}
