/**
 * A real OP runtime for endpoint tests: `setupOp` over a memory store and a movable clock, with a
 * client per authentication method, a client_credentials client and one account. Codes are put
 * in the store exactly as the authorization endpoint does, so the token endpoint can be tested
 * on its own.
 */
import assert from 'node:assert/strict'
import { createLocalJWKSet, type JWTPayload, jwtVerify } from 'jose'
import { Pkce } from '../../../src/core/pkce.ts'
import { randomToken } from '../../../src/core/random.ts'
import { type OpRuntime, setupOp } from '../../../src/op/setup.ts'
import { createMemoryOpStore } from '../../../src/op/store/memory.ts'
import type { CodeRecord } from '../../../src/op/store/types.ts'
import { secretId } from '../../../src/op/tokens/secrets.ts'

export const ISSUER = 'https://op.example/oidc'
export const REDIRECT = 'https://rp.example/callback'
export const ALICE = 'alice-sub'
export const START = Date.UTC(2030, 0, 1)

/** Client names used by tests → id, secret and registered method. */
export const CLIENTS = {
  // a secret with the characters RFC 6749 §2.3.1 form-encoding matters for
  basic: { id: 'basic-client', secret: 'b4sic:s3cret%2B with+plus/0123456789abcdefXYZ' },
  post: { id: 'post-client', secret: 'p0st-secret-0123456789abcdefghijklmnopqrstuvw' },
  public: { id: 'public-client', secret: undefined },
  legacy: { id: 'legacy-client', secret: undefined },
  codeOnly: { id: 'code-only-client', secret: 'c0de-only-secret-0123456789abcdefghijklmnop' },
  service: { id: 'service-client', secret: 's3rvice-secret-0123456789abcdefghijklmnopqr' },
} as const
export type ClientName = keyof typeof CLIENTS

/** Every client secret, for "the body leaks nothing" assertions. */
export const CLIENT_SECRETS: readonly string[] = Object.values(CLIENTS).flatMap((c) =>
  c.secret === undefined ? [] : [c.secret],
)

const METHOD: Record<ClientName, 'basic' | 'post' | 'none'> = {
  basic: 'basic',
  post: 'post',
  public: 'none',
  legacy: 'none',
  codeOnly: 'basic',
  service: 'basic',
}

/** A clock tests move by hand. */
export interface TestClock {
  now(): number
  advance(seconds: number): void
}

/** A running OP and its memory store. */
export interface OpFixture {
  readonly runtime: OpRuntime
  readonly store: ReturnType<typeof createMemoryOpStore>
  readonly clock: TestClock
  close(): void
}

/** Builds the OP runtime every endpoint test uses. */
export async function createFixture(): Promise<OpFixture> {
  let now = START
  const clock: TestClock = {
    now: () => now,
    advance(seconds) {
      now += seconds * 1000
    },
  }
  const store = createMemoryOpStore({ clock })
  const runtime = await setupOp({
    issuer: ISSUER,
    store,
    clock,
    scopes: ['api:read', 'api:write'],
    logger: { warn() {}, error() {} },
    clients: [
      {
        client_id: CLIENTS.basic.id,
        client_secret: CLIENTS.basic.secret,
        redirect_uris: [REDIRECT],
      },
      {
        client_id: CLIENTS.post.id,
        client_secret: CLIENTS.post.secret,
        token_endpoint_auth_method: 'client_secret_post',
        redirect_uris: [REDIRECT],
      },
      { client_id: CLIENTS.public.id, redirect_uris: [REDIRECT] },
      { client_id: CLIENTS.legacy.id, redirect_uris: [REDIRECT], pkce_plain: 'allow-unsafe' },
      {
        client_id: CLIENTS.codeOnly.id,
        client_secret: CLIENTS.codeOnly.secret,
        redirect_uris: [REDIRECT],
        grant_types: ['authorization_code'],
      },
      {
        client_id: CLIENTS.service.id,
        client_secret: CLIENTS.service.secret,
        redirect_uris: [],
        grant_types: ['client_credentials'],
        scope: 'api:read',
        resource_server: true,
      },
    ],
    accounts: [
      {
        username: 'alice',
        password: 'correct horse battery staple',
        sub: ALICE,
        claims: { name: 'Alice Liddell', email: 'alice@example.com', email_verified: true },
      },
    ],
  })
  return { runtime, store, clock, close: () => store.close() }
}

/** An `Authorization: Basic` value, form-encoding id and secret first (RFC 6749 §2.3.1). */
export function basicHeader(id: string, secret: string): string {
  const enc = (v: string) => new URLSearchParams({ v }).toString().slice(2)
  const bytes = new TextEncoder().encode(`${enc(id)}:${enc(secret)}`)
  return `Basic ${btoa(String.fromCharCode(...bytes))}`
}

/** How a client authenticates by its registered method: headers and body fields. */
export function clientAuth(name: ClientName): {
  headers: Record<string, string>
  fields: Record<string, string>
} {
  const { id, secret } = CLIENTS[name]
  switch (METHOD[name]) {
    case 'basic':
      return { headers: { authorization: basicHeader(id, secret ?? '') }, fields: {} }
    case 'post':
      return { headers: {}, fields: { client_id: id, client_secret: secret ?? '' } }
    case 'none':
      return { headers: {}, fields: { client_id: id } }
  }
}

/** Options of {@link formRequest}. */
export interface FormOptions {
  /** Authenticate as this client (by its registered method). */
  readonly client?: ClientName
  readonly headers?: Record<string, string>
  readonly method?: string
}

/** A form POST to `url` (fields may repeat when given as pairs). */
export function formRequest(
  url: string,
  fields: Record<string, string> | [string, string][],
  options: FormOptions = {},
): Request {
  const auth = options.client ? clientAuth(options.client) : { headers: {}, fields: {} }
  const pairs = Array.isArray(fields) ? fields : Object.entries(fields)
  const body = new URLSearchParams([...Object.entries(auth.fields), ...pairs]).toString()
  const method = options.method ?? 'POST'
  return new Request(url, {
    method,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...auth.headers,
      ...options.headers,
    },
    ...(method === 'GET' || method === 'HEAD' ? {} : { body }),
  })
}

/** Options of {@link storeCode}. */
export interface CodeOptions {
  readonly client?: ClientName
  readonly scopes?: readonly string[]
  readonly pkce?: 'S256' | 'plain' | 'none'
  readonly nonce?: string
  readonly redirectUri?: string
}

/** A code stored the way the authorization endpoint stores it, with its verifier. */
export async function storeCode(
  fx: OpFixture,
  options: CodeOptions = {},
): Promise<{ code: string; verifier: string; grantId: string; record: CodeRecord }> {
  const code = randomToken(32)
  const grantId = randomToken(16)
  const { codeVerifier, codeChallenge } = await Pkce.generate()
  const pkce = options.pkce ?? 'S256'
  const record: CodeRecord = {
    grantId,
    clientId: CLIENTS[options.client ?? 'basic'].id,
    sub: ALICE,
    scopes: options.scopes ?? ['openid', 'profile', 'email', 'offline_access'],
    authTime: Math.floor(fx.clock.now() / 1000) - 5,
    redirectUri: options.redirectUri ?? REDIRECT,
    nonce: options.nonce ?? 'nonce-0123456789abcdefghij',
    ...(pkce === 'none'
      ? {}
      : {
          codeChallenge: pkce === 'S256' ? codeChallenge : codeVerifier,
          codeChallengeMethod: pkce,
        }),
  }
  await fx.store.set('code', await secretId(code), record, { ttlSeconds: 60, family: grantId })
  return { code, verifier: codeVerifier, grantId, record }
}

/** Fails when `text` contains any of `secrets`. */
export function assertNoLeak(text: string, secrets: readonly (string | undefined)[]): void {
  for (const secret of secrets) {
    if (secret === undefined || secret === '') continue
    assert.ok(!text.includes(secret), 'the response leaks a secret value')
    assert.ok(!text.includes(encodeURIComponent(secret)), 'the response leaks an encoded secret')
  }
}

/** Verifies a JWT against the OP's published keys. */
export async function verifyWithJwks(
  fx: OpFixture,
  jwt: string,
  audience: string,
  typ: string,
): Promise<JWTPayload> {
  const jwks = createLocalJWKSet(await fx.runtime.keys.publicJwks())
  const { payload } = await jwtVerify(jwt, jwks, {
    issuer: ISSUER,
    audience,
    typ,
    currentDate: new Date(fx.clock.now()),
  })
  return payload
}
