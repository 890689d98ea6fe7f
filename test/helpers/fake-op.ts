// A small, strict OpenID Provider used by the client unit tests. It runs in-process as a Web
// `Request → Response` handler behind an injected `fetch`, records every request, verifies PKCE
// and client authentication like a real authorization server, and lets a test bend any response.
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose'
import { accessTokenHash } from '../../src/client/id-token.ts'
import { Pkce } from '../../src/core/pkce.ts'
import { randomToken } from '../../src/core/random.ts'

export const ISSUER = 'https://op.example'
export const CLIENT_ID = 'client-1'
export const CLIENT_SECRET = 'secret-1:with%odd chars'
export const REDIRECT_URI = 'https://app.example/auth/callback/fake'

interface CodeRecord {
  clientId: string
  redirectUri: string
  challenge: string | null
  nonce: string | null
  scope: string
  sub: string
}

export interface FakeOpOptions {
  /** Change the discovery document. */
  discovery?: (doc: Record<string, unknown>) => Record<string, unknown>
  /** Change ID token claims before signing. */
  idTokenClaims?: (claims: Record<string, unknown>) => Record<string, unknown>
  /** Change the ID token header (e.g. kid). */
  idTokenHeader?: (header: Record<string, unknown>) => Record<string, unknown>
  /** Replace the token response. */
  tokenResponse?: (
    body: Record<string, unknown>,
  ) => Response | Record<string, unknown> | Promise<Response | Record<string, unknown>>
  /** Replace the userinfo body. */
  userinfo?: (body: Record<string, unknown>) => Record<string, unknown>
}

export interface FakeOp {
  fetch: typeof fetch
  requests: Request[]
  /** Requests to one path, e.g. '/token'. */
  count(path: string): number
  /** Plays the user approving the authorization request; returns the callback URL. */
  authorize(authorizationUrl: URL, extra?: Record<string, string>): Promise<URL>
  options: FakeOpOptions
  /** Signs a token with the OP's key (or another). */
  sign(claims: Record<string, unknown>, header?: Record<string, unknown>): Promise<string>
  rotateKey(): Promise<void>
  /** The current signing key id. */
  kid(): string
  revoked: string[]
}

const json = (body: unknown, status = 200, headers: Record<string, string> = {}): Response =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  })

export async function createFakeOp(options: FakeOpOptions = {}): Promise<FakeOp> {
  let keys = await generateKeyPair('ES256', { extractable: true })
  let kid = randomToken(16).slice(0, 8)
  let jwk: JWK = { ...(await exportJWK(keys.publicKey)), kid, alg: 'ES256', use: 'sig' }
  const codes = new Map<string, CodeRecord>()
  const refreshTokens = new Map<string, CodeRecord>()
  const requests: Request[] = []
  const revoked: string[] = []

  async function sign(claims: Record<string, unknown>, header: Record<string, unknown> = {}) {
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid, ...header } as { alg: string })
      .sign(keys.privateKey)
  }

  function authenticate(req: Request, form: URLSearchParams): string | null {
    const basic = req.headers.get('authorization')
    if (basic?.startsWith('Basic ')) {
      const [id, secret] = atob(basic.slice(6))
        .split(':')
        .map((p) => decodeURIComponent(p.replace(/\+/g, ' ')))
      return id === CLIENT_ID && secret === CLIENT_SECRET ? id : null
    }
    if (form.get('client_secret') !== null) {
      return form.get('client_id') === CLIENT_ID && form.get('client_secret') === CLIENT_SECRET
        ? CLIENT_ID
        : null
    }
    return form.get('client_id') === 'public-client' ? 'public-client' : null
  }

  async function issue(record: CodeRecord, withIdToken: boolean) {
    const accessToken = randomToken()
    const refreshToken = randomToken()
    refreshTokens.set(refreshToken, record)
    const now = Math.floor(Date.now() / 1000)
    const body: Record<string, unknown> = {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: 3600,
      refresh_token: refreshToken,
      scope: record.scope,
    }
    if (withIdToken && record.scope.split(' ').includes('openid')) {
      let claims: Record<string, unknown> = {
        iss: ISSUER,
        sub: record.sub,
        aud: record.clientId,
        iat: now,
        exp: now + 300,
        at_hash: await accessTokenHash(accessToken, 'ES256'),
        ...(record.nonce ? { nonce: record.nonce } : {}),
      }
      if (options.idTokenClaims) claims = options.idTokenClaims(claims)
      body.id_token = await sign(claims, options.idTokenHeader?.({}) ?? {})
    }
    return body
  }

  async function token(req: Request): Promise<Response> {
    const form = new URLSearchParams(await req.text())
    const client = authenticate(req, form)
    if (!client) return json({ error: 'invalid_client' }, 401)
    let body: Record<string, unknown>
    if (form.get('grant_type') === 'authorization_code') {
      const record = codes.get(form.get('code') ?? '')
      codes.delete(form.get('code') ?? '')
      if (
        !record ||
        record.clientId !== client ||
        record.redirectUri !== form.get('redirect_uri')
      ) {
        return json({ error: 'invalid_grant' }, 400)
      }
      const verifier = form.get('code_verifier')
      if (record.challenge !== null) {
        if (!verifier || !(await Pkce.verify(verifier, record.challenge))) {
          return json(
            { error: 'invalid_grant', error_description: 'PKCE verification failed' },
            400,
          )
        }
      }
      body = await issue(record, true)
    } else if (form.get('grant_type') === 'refresh_token') {
      const record = refreshTokens.get(form.get('refresh_token') ?? '')
      refreshTokens.delete(form.get('refresh_token') ?? '')
      if (!record) return json({ error: 'invalid_grant' }, 400)
      body = await issue({ ...record, nonce: null }, true)
    } else {
      return json({ error: 'unsupported_grant_type' }, 400)
    }
    const replaced = options.tokenResponse ? await options.tokenResponse(body) : body
    return replaced instanceof Response
      ? replaced
      : json(replaced, 200, { 'cache-control': 'no-store' })
  }

  async function handle(req: Request): Promise<Response> {
    const url = new URL(req.url)
    switch (url.pathname) {
      case '/.well-known/openid-configuration': {
        const doc = {
          issuer: ISSUER,
          authorization_endpoint: `${ISSUER}/authorize`,
          token_endpoint: `${ISSUER}/token`,
          userinfo_endpoint: `${ISSUER}/userinfo`,
          revocation_endpoint: `${ISSUER}/revoke`,
          jwks_uri: `${ISSUER}/jwks`,
          scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
          code_challenge_methods_supported: ['S256'],
          id_token_signing_alg_values_supported: ['ES256'],
          token_endpoint_auth_methods_supported: [
            'client_secret_basic',
            'client_secret_post',
            'none',
          ],
          authorization_response_iss_parameter_supported: true,
        }
        return json(options.discovery ? options.discovery(doc) : doc, 200, {
          'cache-control': 'max-age=300',
        })
      }
      case '/jwks':
        return json({ keys: [jwk] })
      case '/token':
        return token(req)
      case '/userinfo': {
        const auth = req.headers.get('authorization') ?? ''
        if (!auth.startsWith('Bearer ')) return json({ error: 'invalid_token' }, 401)
        const body = {
          sub: 'user-42',
          email: 'alice@example.com',
          email_verified: true,
          name: 'Alice',
          preferred_username: 'alice',
          picture: 'https://img.example/a.png',
        }
        return json(options.userinfo ? options.userinfo(body) : body)
      }
      case '/revoke': {
        const form = new URLSearchParams(await req.text())
        if (!authenticate(req, form)) return json({ error: 'invalid_client' }, 401)
        revoked.push(form.get('token') ?? '')
        return new Response(null, { status: 200 })
      }
      default:
        return new Response('not found', { status: 404 })
    }
  }

  const fakeFetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input, init)
    requests.push(req.clone())
    return handle(req)
  }) as typeof fetch

  return {
    fetch: fakeFetch,
    requests,
    revoked,
    options,
    count: (path) => requests.filter((r) => new URL(r.url).pathname === path).length,
    sign,
    kid: () => kid,
    async rotateKey() {
      keys = await generateKeyPair('ES256', { extractable: true })
      kid = randomToken(16).slice(0, 8)
      jwk = { ...(await exportJWK(keys.publicKey)), kid, alg: 'ES256', use: 'sig' }
    },
    async authorize(authorizationUrl, extra = {}) {
      const p = authorizationUrl.searchParams
      const code = randomToken()
      codes.set(code, {
        clientId: p.get('client_id') ?? '',
        redirectUri: p.get('redirect_uri') ?? '',
        challenge: p.get('code_challenge'),
        nonce: p.get('nonce'),
        scope: p.get('scope') ?? '',
        sub: 'user-42',
      })
      const callback = new URL(p.get('redirect_uri') ?? REDIRECT_URI)
      callback.searchParams.set('code', code)
      if (p.get('state') !== null) callback.searchParams.set('state', p.get('state') ?? '')
      callback.searchParams.set('iss', ISSUER)
      for (const [k, v] of Object.entries(extra)) callback.searchParams.set(k, v)
      return callback
    },
  }
}
