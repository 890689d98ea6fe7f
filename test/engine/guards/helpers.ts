// Shared by the guard suites: a token issuer of our own (jose keys, a JWKS served through a stub
// `fetch`), our OP on loopback for real access tokens, and the refusal assertions.
import assert from 'node:assert/strict'
import type { Server } from 'node:http'
import {
  exportJWK,
  generateKeyPair,
  type JWK,
  type JWTHeaderParameters,
  type JWTPayload,
  SignJWT,
} from 'jose'
import { serve } from '../../../src/dev-idp/serve.ts'
import type { GuardResult } from '../../../src/index.ts'
import { createOp } from '../../../src/op/create-op.ts'

export const ISS = 'https://issuer.example'
export const AUD = 'https://api.example'
export const JWKS_URI = 'https://issuer.example/jwks'
/** The verifying clock: tokens are built relative to it. */
export const NOW = Math.floor(Date.UTC(2030, 0, 1) / 1000)
export const clock = { now: () => NOW * 1000 }

type Key = Awaited<ReturnType<typeof generateKeyPair>>['privateKey']

/** An issuer's ES256 key with `kid: k1`, and a stub `fetch` serving its JWKS, counting calls. */
export interface LocalIssuer {
  readonly key: Key
  readonly jwks: { keys: JWK[] }
  readonly fetch: typeof fetch
  /** Calls to `fetch` so far. */
  calls(): number
}

export async function localIssuer(): Promise<LocalIssuer> {
  const { privateKey, publicKey } = await generateKeyPair('ES256')
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }
  const jwks = { keys: [jwk] }
  let calls = 0
  const stub = (async (input: string | URL | Request) => {
    calls++
    const url = input instanceof Request ? input.url : String(input)
    if (url !== JWKS_URI) return new Response('not found', { status: 404 })
    return Response.json(jwks, { headers: { 'content-type': 'application/jwk-set+json' } })
  }) as typeof fetch
  return { key: privateKey, jwks, fetch: stub, calls: () => calls }
}

/** The claims of a good access token: RFC 9068 §2.2, issued a minute ago, valid 10 minutes. */
export function goodClaims(): JWTPayload {
  return {
    iss: ISS,
    sub: 'user-1',
    aud: AUD,
    client_id: 'client-1',
    scope: 'orders:read profile',
    jti: 'jti-1',
    iat: NOW - 60,
    exp: NOW + 600,
  }
}

/** Signs `claims` with `header` over `{ alg: ES256, kid: k1, typ: at+jwt }` (undefined drops). */
export async function sign(
  key: Key | Uint8Array,
  claims: Record<string, unknown>,
  header: Record<string, string | undefined> = {},
): Promise<string> {
  const payload = Object.fromEntries(Object.entries(claims).filter(([, v]) => v !== undefined))
  const protectedHeader = Object.fromEntries(
    Object.entries({ alg: 'ES256', kid: 'k1', typ: 'at+jwt', ...header }).filter(
      ([, v]) => v !== undefined,
    ),
  ) as JWTHeaderParameters
  return new SignJWT(payload).setProtectedHeader(protectedHeader).sign(key)
}

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')

/** An unsecured JWT (`alg: none`), built by hand: jose will not sign one. */
export function unsecured(claims: JWTPayload, typ = 'at+jwt'): string {
  return `${b64({ alg: 'none', typ })}.${b64(claims)}.`
}

export const request = (headers: Record<string, string> = {}, url = `${AUD}/orders`): Request =>
  new Request(url, { headers })

export const withBearer = (token: string, url?: string): Request =>
  request({ authorization: `Bearer ${token}` }, url)

/** Asserts a refusal: status, exact `WWW-Authenticate` (null: absent), JSON `error`, no secret. */
export async function assertRefusal(
  result: GuardResult<unknown>,
  expected: { status: number; challenge: string | null; error: string; secret?: string },
): Promise<Record<string, unknown>> {
  assert.equal(result.ok, false, 'expected a refusal')
  if (result.ok) throw new Error('unreachable')
  const { response } = result
  assert.equal(response.status, expected.status)
  assert.equal(response.headers.get('www-authenticate'), expected.challenge)
  assert.equal(response.headers.get('content-type'), 'application/json; charset=utf-8')
  assert.equal(response.headers.get('cache-control'), 'no-store')
  const text = await response.text()
  if (expected.secret !== undefined && expected.secret !== '') {
    assert.ok(!text.includes(expected.secret), 'the body echoes the credential')
    for (const part of expected.secret.split('.').filter((p) => p.length >= 8)) {
      assert.ok(!text.includes(part), 'the body echoes part of the credential')
    }
  }
  const body = JSON.parse(text) as Record<string, unknown>
  assert.equal(body.error, expected.error)
  assert.equal(typeof body.error_description, 'string')
  return body
}

/** Asserts success and returns the principal. */
export function principal<P>(result: GuardResult<P>): P {
  if (!result.ok) assert.fail(`expected a principal, got ${result.response.status}`)
  return result.principal
}

export const SERVICE = { id: 'service', secret: 'service-secret-0123456789abcdefghij' }

/** Our OP on loopback: a client_credentials client allowed `api:read api:write`. */
export interface RunningOp {
  readonly issuer: string
  /** A fresh access token from POST /token (client_credentials) for `scope`. */
  token(scope?: string): Promise<string>
  /** Adds a new signing key (new tokens get a new `kid`). */
  rotate(): Promise<void>
  close(): Promise<void>
}

export async function startOp(): Promise<RunningOp> {
  let handler: (r: Request) => Promise<Response> = async () => new Response(null, { status: 503 })
  const server: Server = await serve((r) => handler(r), { host: '127.0.0.1', port: 0 })
  const issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  const op = await createOp({
    issuer,
    logger: { warn: () => {}, error: () => {} },
    scopes: ['api:read', 'api:write', 'api:admin'],
    clients: [
      {
        client_id: SERVICE.id,
        client_secret: SERVICE.secret,
        redirect_uris: [],
        grant_types: ['client_credentials'],
        scope: 'api:read api:write',
      },
    ],
  })
  handler = op.handler
  return {
    issuer,
    async token(scope) {
      const body = new URLSearchParams({ grant_type: 'client_credentials' })
      if (scope !== undefined) body.set('scope', scope)
      const response = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${btoa(`${SERVICE.id}:${SERVICE.secret}`)}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body,
      })
      assert.equal(response.status, 200, await response.clone().text())
      const json = (await response.json()) as { access_token: string; token_type: string }
      assert.equal(json.token_type, 'Bearer')
      return json.access_token
    },
    rotate: () => op.rotateKeys(),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
