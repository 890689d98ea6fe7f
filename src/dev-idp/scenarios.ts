/**
 * Scenarios: `authkestra dev-idp --scenario NAME` makes the IdP misbehave on purpose, one way at a
 * time, so an app's developer can watch their error handling work before a real provider does it
 * to them. Each scenario is a wrapper around the OP's message handler: the OP itself stays correct
 * and unchanged, and the wrapper bends one thing on the way out (an authorization redirect, a
 * token response, an ID token re-signed with one claim changed) or acts before a request (a key
 * rotation). The table below is the documentation too (`--help` and docs/dev-idp.md list it), and
 * names, for each, the stable code an Authkestra engine refuses it with.
 *
 * @module
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { decodeBase64url } from '../core/base64url.ts'
import { randomToken } from '../core/random.ts'
import type { OpRequest, OpResponse } from '../op/http/message.ts'
import type { OpStore } from '../op/store/types.ts'
import { createTokenSigner } from '../op/tokens/signer.ts'

/** What a scenario can reach: the OP's store (for its signing keys) and its key rotation. */
export interface ScenarioContext {
  readonly issuer: string
  readonly store: OpStore
  readonly rotateKeys: () => Promise<void>
  /** Milliseconds `slow-token` waits (`--delay`). */
  readonly delayMs: number
}

type Answer = (request: OpRequest) => Promise<OpResponse>

interface Scenario {
  /** One line for `--help` and the docs. */
  readonly does: string
  /** What an Authkestra engine answers (the stable error code, or that sign-in still works). */
  readonly engine: string
  /** Wraps the OP's answer for requests to `endpoint` (a path under the issuer). */
  readonly endpoint: '/authorize' | '/token' | 'any'
  readonly wrap: (answer: Answer, ctx: ScenarioContext) => Answer
}

const HOUR = 3600

/** Every scenario, by name (kebab-case, as typed after `--scenario`). */
export const SCENARIOS = {
  'wrong-iss': {
    does: 'the authorization response carries another issuer in "iss" (RFC 9207 mix-up)',
    engine: 'issuer_mismatch',
    endpoint: 'any',
    wrap: codeRedirect((url) => url.searchParams.set('iss', 'https://attacker.example')),
  },
  'missing-iss': {
    does: 'the authorization response has no "iss" although discovery promises it (RFC 9207)',
    engine: 'issuer_missing',
    endpoint: 'any',
    wrap: codeRedirect((url) => url.searchParams.delete('iss')),
  },
  'access-denied': {
    does: 'the user signs in, then declines: error=access_denied instead of a code',
    engine: 'authorization_error (oauthError access_denied)',
    endpoint: 'any',
    wrap: codeRedirect((url) => {
      url.searchParams.delete('code')
      url.searchParams.set('error', 'access_denied')
      url.searchParams.set('error_description', 'the user declined (dev-idp scenario)')
    }),
  },
  'login-required': {
    does: 'every valid authorization request is answered error=login_required at once',
    engine: 'authorization_error (oauthError login_required)',
    endpoint: '/authorize',
    wrap: loginRequired,
  },
  'expired-id-token': {
    does: 'the ID token expired an hour ago (as from an IdP whose clock is wrong)',
    engine: 'id_token_expired',
    endpoint: '/token',
    wrap: idToken((claims) => ({
      ...claims,
      iat: Number(claims.iat) - 2 * HOUR,
      exp: Number(claims.iat) - HOUR,
      ...(claims.auth_time === undefined ? {} : { auth_time: Number(claims.auth_time) - 2 * HOUR }),
    })),
  },
  'wrong-nonce': {
    does: 'the ID token carries another "nonce" than the login sent (an injected token)',
    engine: 'id_token_nonce_mismatch',
    endpoint: '/token',
    wrap: idToken((claims) => ({ ...claims, nonce: randomToken(16) })),
  },
  'wrong-audience': {
    does: 'the ID token is issued to another client ("aud")',
    engine: 'id_token_claim_invalid',
    endpoint: '/token',
    wrap: idToken((claims) => ({ ...claims, aud: 'another-client', azp: 'another-client' })),
  },
  'extra-audience': {
    does: 'the ID token is also issued to "https://api.example" ("aud" of two, "azp" the client)',
    engine: 'id_token_claim_invalid (signs in when the provider lists it in trustedAudiences)',
    endpoint: '/token',
    wrap: idToken((claims) => ({
      ...claims,
      aud: [String(claims.aud), 'https://api.example'],
      azp: String(claims.aud),
    })),
  },
  'bad-signature': {
    does: 'the ID token names the signing key but is signed by another (forged)',
    engine: 'id_token_signature_invalid',
    endpoint: '/token',
    wrap: idToken((claims) => claims, 'forged'),
  },
  'unknown-key': {
    does: 'the ID token is signed by a key the JWKS never publishes',
    engine: 'id_token_key_not_found',
    endpoint: '/token',
    wrap: idToken((claims) => claims, 'unknown-kid'),
  },
  'rotate-keys': {
    does: 'a new signing key before every code exchange (old keys stay published)',
    engine:
      'signs in: one JWKS refetch per new key; within its 30 s cooldown, id_token_key_not_found',
    endpoint: '/token',
    wrap: (answer, ctx) => async (request) => {
      await ctx.rotateKeys()
      return answer(request)
    },
  },
  'token-error': {
    does: 'the token endpoint answers 500 {"error":"server_error"}',
    engine: 'token_error (oauthError server_error)',
    endpoint: '/token',
    wrap: () => async () => ({
      status: 500,
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
      body: JSON.stringify({
        error: 'server_error',
        error_description: 'the token endpoint failed (dev-idp scenario)',
      }),
    }),
  },
  'token-outage': {
    does: 'the token endpoint answers 503 with an HTML page, as a failing load balancer does',
    engine: 'provider_bad_response',
    endpoint: '/token',
    wrap: () => async () => ({
      status: 503,
      headers: { 'content-type': 'text/html; charset=utf-8', 'retry-after': '30' },
      body: '<!doctype html><title>503 Service Unavailable</title><h1>Service Unavailable</h1>',
    }),
  },
  'slow-token': {
    does: 'the token endpoint answers only after --delay ms (default 15000)',
    engine: 'provider_timeout (once past the engine timeoutMs, 10 s by default)',
    endpoint: '/token',
    wrap: (answer, ctx) => async (request) => {
      await sleep(ctx.delayMs)
      return answer(request)
    },
  },
} as const satisfies Record<string, Scenario>

/** A scenario's name. */
export type ScenarioName = keyof typeof SCENARIOS

/** True for a known scenario name. */
export function isScenarioName(name: string): name is ScenarioName {
  return Object.hasOwn(SCENARIOS, name)
}

/**
 * The OP's answer, misbehaving as `name` says for the requests it is about (every other request
 * is answered by the OP untouched).
 */
export function withScenario(answer: Answer, name: ScenarioName, ctx: ScenarioContext): Answer {
  const scenario: Scenario = SCENARIOS[name]
  const wrapped = scenario.wrap(answer, ctx)
  if (scenario.endpoint === 'any') return wrapped
  const path = `${new URL(ctx.issuer).pathname.replace(/\/$/, '')}${scenario.endpoint}`
  return (request) => (request.url.pathname === path ? wrapped : answer)(request)
}

/** `--help`'s list of scenarios. */
export function scenarioUsage(): string {
  const names = Object.keys(SCENARIOS)
  const width = Math.max(...names.map((n) => n.length))
  return names.map((n) => `  ${n.padEnd(width)}  ${SCENARIOS[n as ScenarioName].does}`).join('\n')
}

function locationOf(response: OpResponse): URL | undefined {
  if (response.status !== 302 && response.status !== 303) return undefined
  const location = response.headers.location
  return typeof location === 'string' && URL.canParse(location) ? new URL(location) : undefined
}

/**
 * Bends the redirect that hands a client its code (from `/authorize` with an OP session, or from
 * the login form), wherever it comes from: a redirect whose URL carries `code` and the OP's `iss`.
 */
function codeRedirect(bend: (url: URL) => void) {
  return (answer: Answer, ctx: ScenarioContext): Answer =>
    async (request) => {
      const response = await answer(request)
      const url = locationOf(response)
      if (!url?.searchParams.has('code') || url.searchParams.get('iss') !== ctx.issuer)
        return response
      bend(url)
      return { ...response, headers: { ...response.headers, location: url.href } }
    }
}

/**
 * `login_required` for every authorization request the OP accepted (it redirected, to its login
 * page or with a code): only then is the request's `redirect_uri` known to be registered, so the
 * scenario never redirects anywhere the OP would not. An error the OP gave stays the OP's.
 */
function loginRequired(answer: Answer, ctx: ScenarioContext): Answer {
  return async (request) => {
    const response = await answer(request)
    const url = locationOf(response)
    if (url === undefined || url.searchParams.has('error')) return response
    const params =
      request.method === 'POST'
        ? new URLSearchParams(new TextDecoder().decode(await request.body(64 * 1024)))
        : request.url.searchParams
    // A pushed request (PAR) has no redirect_uri in the URL: the OP's own redirect, when it went
    // straight back to the client (auto-login), names it.
    const back = url.href.startsWith(ctx.issuer) ? undefined : `${url.origin}${url.pathname}`
    const redirectUri = params.get('redirect_uri') ?? back
    if (redirectUri === undefined) return response
    const target = new URL(redirectUri)
    target.searchParams.set('error', 'login_required')
    target.searchParams.set('error_description', 'the user must sign in (dev-idp scenario)')
    const state = params.get('state') ?? url.searchParams.get('state')
    if (state !== null) target.searchParams.set('state', state)
    target.searchParams.set('iss', ctx.issuer)
    // The OP's interaction cookie is dropped with its redirect: the login never starts.
    return {
      status: 303,
      headers: { location: target.href, 'cache-control': 'no-store' },
      body: null,
    }
  }
}

type Claims = Record<string, unknown>

const IMPORT: Record<string, EcKeyImportParams | RsaHashedImportParams | Algorithm> = {
  ES256: { name: 'ECDSA', namedCurve: 'P-256' },
  RS256: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
  EdDSA: { name: 'Ed25519' },
}

const GENERATE: Record<string, EcKeyGenParams | RsaHashedKeyGenParams | Algorithm> = {
  ES256: { name: 'ECDSA', namedCurve: 'P-256' },
  RS256: {
    name: 'RSASSA-PKCS1-v1_5',
    hash: 'SHA-256',
    modulusLength: 2048,
    publicExponent: new Uint8Array([1, 0, 1]),
  },
  EdDSA: { name: 'Ed25519' },
}

/**
 * Re-signs the ID token of every token response with its claims bent by `bend`: with the OP's
 * own key (so only the bent claim is wrong), or with a key the JWKS does not hold, under the
 * OP's `kid` (`forged`) or an unknown one (`unknown-kid`).
 */
function idToken(bend: (claims: Claims) => Claims, key: 'own' | 'forged' | 'unknown-kid' = 'own') {
  return (answer: Answer, ctx: ScenarioContext): Answer => {
    const strangers = new Map<string, Promise<CryptoKey>>()
    const stranger = (alg: string) => {
      let made = strangers.get(alg)
      if (!made) {
        made = crypto.subtle
          .generateKey(GENERATE[alg] as EcKeyGenParams, false, ['sign', 'verify'])
          .then((pair) => (pair as CryptoKeyPair).privateKey)
        strangers.set(alg, made)
      }
      return made
    }
    return async (request) => {
      const response = await answer(request)
      if (response.status !== 200 || response.body === null) return response
      const body = JSON.parse(response.body) as Record<string, unknown>
      if (typeof body.id_token !== 'string') return response
      const [header, payload] = body.id_token.split('.').map(decodePart)
      const kid = typeof header?.kid === 'string' ? header.kid : ''
      const alg = typeof header?.alg === 'string' ? header.alg : ''
      const typ = typeof header?.typ === 'string' ? header.typ : 'JWT'
      if (payload === undefined || !(alg in IMPORT)) return response
      let signingKey: CryptoKey
      if (key === 'own') {
        const record = await ctx.store.get('key', kid)
        if (record?.privateJwk === undefined) return response
        signingKey = await crypto.subtle.importKey(
          'jwk',
          record.privateJwk as JsonWebKey,
          IMPORT[alg] as EcKeyImportParams,
          false,
          ['sign'],
        )
      } else {
        signingKey = await stranger(alg)
      }
      const signer = createTokenSigner({
        kid: key === 'unknown-kid' ? `unknown-${randomToken(16)}` : kid,
        alg,
        key: signingKey,
      })
      const idToken = await signer.sign(typ, bend(payload))
      return { ...response, body: JSON.stringify({ ...body, id_token: idToken }) }
    }
  }
}

function decodePart(part: string): Claims | undefined {
  const bytes = decodeBase64url(part)
  if (bytes === undefined) return undefined
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(bytes))
    return typeof value === 'object' && value !== null ? (value as Claims) : undefined
  } catch {
    return undefined
  }
}
