// An OP with private_key_jwt clients for the client-assertion tests: `pk` registers one public
// key per algorithm (ES256, PS256, EdDSA, RS256, ES384) inline, `pk-es` only ES256 keys and
// `token_endpoint_auth_signing_alg: ES256`, `pk-uri` a jwks_uri served by an injected fetch
// that counts its calls, `web` a secret client. Assertions are signed with jose, independently
// of the library's own client.
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose'
import type { OpConfig } from '../../../src/op/config.ts'
import { createOp } from '../../../src/op/create-op.ts'
import { createMemoryOpStore } from '../../../src/op/store/memory.ts'

export const ISSUER = 'http://127.0.0.1:9000'
export const TOKEN = `${ISSUER}/token`
export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
export const WEB_SECRET = 'web-secret-0123456789abcdefghijklmn'
export const ALGS = ['ES256', 'PS256', 'EdDSA', 'RS256', 'ES384'] as const
export type Alg = (typeof ALGS)[number]

export interface TestKey {
  readonly alg: Alg
  readonly kid: string
  readonly privateKey: CryptoKey
  readonly publicJwk: JWK
  /** The private key as a JWK (for the client's JWK form). */
  readonly privateJwk: JWK
}

export async function makeKey(alg: Alg, kid: string = alg.toLowerCase()): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, {
    extractable: true,
    ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}),
  })
  const publicJwk = { ...(await exportJWK(publicKey)), kid }
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg }
  return { alg, kid, privateKey, publicJwk, privateJwk }
}

export interface AssertionOptions {
  readonly claims?: Record<string, unknown>
  readonly header?: Record<string, unknown>
  readonly omit?: readonly string[]
}

export function nowSeconds(now: { value: number }): number {
  return Math.floor(now.value / 1000)
}

/** A sound assertion for `clientId` signed by `key`, with overrides. */
export async function signAssertion(
  key: TestKey,
  clientId: string,
  now: { value: number },
  options: AssertionOptions = {},
): Promise<string> {
  const t = nowSeconds(now)
  const claims: Record<string, unknown> = {
    iss: clientId,
    sub: clientId,
    aud: ISSUER,
    jti: crypto.randomUUID(),
    iat: t,
    exp: t + 60,
    ...options.claims,
  }
  for (const name of options.omit ?? []) delete claims[name]
  return new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, ...options.header } as { alg: string })
    .sign(key.privateKey)
}

/** `patch` overrides the config; as a function, it gets the world's keys to register them. */
export async function assertionWorld(
  patch: Partial<OpConfig> | ((byAlg: (alg: Alg) => TestKey) => Partial<OpConfig>) = {},
) {
  const now = { value: Date.now() }
  const clock = { now: () => now.value }
  const store = createMemoryOpStore({ clock })
  const keys = Object.fromEntries(await Promise.all(ALGS.map(async (a) => [a, await makeKey(a)])))
  const byAlg = (alg: Alg) => keys[alg] as TestKey
  const uriKeys: { current: JWK[] } = { current: [(await makeKey('ES256', 'uri-1')).publicJwk] }
  const fetched: string[] = []
  const warnings: string[] = []
  const op = await createOp({
    issuer: ISSUER,
    store,
    clock,
    logger: { warn: (m) => warnings.push(m), error() {} },
    dangerouslyAutoLogin: 'alice',
    deviceFlow: {},
    clientAssertion: {
      jwksUri: { minRefetchSeconds: 30 },
      fetch: async (input) => {
        fetched.push(String(input))
        return new Response(JSON.stringify({ keys: uriKeys.current }), {
          headers: { 'content-type': 'application/jwk-set+json' },
        })
      },
    },
    clients: [
      {
        client_id: 'pk',
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: ALGS.map((a) => byAlg(a).publicJwk as Record<string, unknown>) },
        redirect_uris: ['https://app.example/cb'],
        grant_types: [
          'authorization_code',
          'refresh_token',
          'client_credentials',
          'urn:ietf:params:oauth:grant-type:device_code',
        ],
      },
      {
        client_id: 'pk-es',
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: 'ES256',
        jwks: { keys: [byAlg('ES256').publicJwk as Record<string, unknown>] },
        redirect_uris: [],
        grant_types: ['client_credentials'],
      },
      {
        client_id: 'pk-uri',
        token_endpoint_auth_method: 'private_key_jwt',
        jwks_uri: 'https://client.example/jwks.json',
        redirect_uris: [],
        grant_types: ['client_credentials'],
      },
      {
        client_id: 'web',
        client_secret: WEB_SECRET,
        redirect_uris: ['https://app.example/cb'],
        grant_types: ['authorization_code', 'client_credentials'],
      },
    ],
    accounts: [{ username: 'alice', password: 'wonderland', sub: 'alice-sub', claims: {} }],
    ...(typeof patch === 'function' ? patch(byAlg) : patch),
  })
  const post = async (
    path: string,
    form: Record<string, string> | URLSearchParams,
    headers: Record<string, string> = {},
  ) => {
    const response = await op.handler(
      new Request(`${ISSUER}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams(form),
      }),
    )
    const text = await response.text()
    return {
      status: response.status,
      headers: response.headers,
      text,
      body: (text === '' ? {} : JSON.parse(text)) as Record<string, unknown>,
    }
  }
  /** A client_credentials request authenticated by `assertion`. */
  const clientCredentials = (assertion: string, extra: Record<string, string> = {}, headers = {}) =>
    post(
      '/token',
      {
        grant_type: 'client_credentials',
        client_assertion_type: JWT_BEARER,
        client_assertion: assertion,
        ...extra,
      },
      headers,
    )
  return {
    op,
    store,
    now,
    byAlg,
    uriKeys,
    fetched,
    warnings,
    post,
    clientCredentials,
    sign: (key: TestKey, clientId: string, options?: AssertionOptions) =>
      signAssertion(key, clientId, now, options),
  }
}
