// An OP for fuzzing (createOp over a memory store with a movable clock), its clients and account,
// and a real login through an auto-login OP that yields a code and tokens to plant and to mutate.
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { Pkce } from '../../../src/core/pkce.ts'
import { createMfa } from '../../../src/mfa/create-mfa.ts'
import { createMemoryCredentialStore } from '../../../src/mfa/store/memory.ts'
import { createOp, type Op } from '../../../src/op/create-op.ts'
import { GrantError } from '../../../src/op/errors.ts'
import { createMemoryOpStore } from '../../../src/op/store/memory.ts'

/** The API the fuzz OP serves (RFC 8707 `resource`). */
export const FUZZ_RESOURCE = 'https://api.example/'

export const ISSUER = 'https://op.example/oidc'
export const WEB_REDIRECT = 'https://rp.example/cb'
export const SPA_REDIRECT = 'http://localhost:3000/cb'
export const REDIRECTS = [WEB_REDIRECT, SPA_REDIRECT] as const
/** The web client's registered `post_logout_redirect_uris`. */
export const SIGNED_OUT = 'https://rp.example/signed-out'
export const PASSWORD = 'correct horse battery staple'
/** Bob's TOTP secret (base32). */
export const TOTP_SECRET = 'KRUGS4ZANFZSAYJAORSXG5BAONSWG4TF'

export const CLIENTS = {
  web: { id: 'web', secret: 'web-secret-0123456789abcdefghijklmnop' },
  post: { id: 'post', secret: 'p0st-secret-0123456789abcdefghijklmn' },
  spa: { id: 'spa', secret: undefined },
  service: { id: 'service', secret: 's3rvice-secret-0123456789abcdefghijk' },
  tv: { id: 'tv', secret: undefined },
  /** private_key_jwt; code flow only, so its assertions alone never get a token. */
  signer: { id: 'signer', secret: undefined },
} as const

/** RFC 7523 §2.2 `client_assertion_type`. */
export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

/** A custom grant (RFC 6749 §4.5) the service and tv clients may use. */
export const CUSTOM_GRANT = 'urn:example:grant-type:partner'
/** The only assertion the custom grant accepts; random requests never carry it. */
const PARTNER_ASSERTION = 'partner-assertion-9f3a1c77e0b24d5b8c6e'

export const CLIENT_SECRETS = [CLIENTS.web.secret, CLIENTS.post.secret, CLIENTS.service.secret]

export interface OpWorld {
  op: Op
  store: ReturnType<typeof createMemoryOpStore>
  now: { value: number }
  /** The ES256 private key (kid `signer-1`) of the `signer` client. */
  signerKey: CryptoKey
}

/** A sound client assertion of `clientId` (default the signer) at the world's time. */
export function signerAssertion(world: OpWorld, clientId: string = CLIENTS.signer.id) {
  const now = Math.floor(world.now.value / 1000)
  return new SignJWT({ jti: crypto.randomUUID() })
    .setProtectedHeader({ alg: 'ES256', kid: 'signer-1' })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(ISSUER)
    .setIssuedAt(now)
    .setExpirationTime(now + 60)
    .sign(world.signerKey)
}

/** An OP; auto-login as alice when `autoLogin`. */
export async function fuzzOp(autoLogin = false): Promise<OpWorld> {
  const now = { value: Date.UTC(2030, 0, 1) }
  const clock = { now: () => now.value }
  const store = createMemoryOpStore({ clock })
  const signer = await generateKeyPair('ES256')
  const mfa = createMfa({
    store: createMemoryCredentialStore({ clock }),
    secret: 'fuzz-mfa-secret-0123456789abcdefghijkl',
    issuer: 'Fuzz OP',
    clock,
    passkeys: { id: 'op.example', name: 'Fuzz OP', origins: [new URL(ISSUER).origin] },
  })
  const op = await createOp({
    issuer: ISSUER,
    store,
    clock,
    scopes: ['api:read'],
    // RFC 8707: one API, which the web, service and tv clients may name with `resource`.
    resources: [{ resource: FUZZ_RESOURCE, scopes: ['api:read'], accessTokenTtl: 300 }],
    logger: { warn: () => {}, error: () => {} },
    clients: [
      {
        client_id: CLIENTS.web.id,
        client_secret: CLIENTS.web.secret,
        redirect_uris: [WEB_REDIRECT],
        post_logout_redirect_uris: [SIGNED_OUT],
        skip_consent: true,
        allowed_resources: [FUZZ_RESOURCE],
      },
      {
        client_id: CLIENTS.post.id,
        client_secret: CLIENTS.post.secret,
        token_endpoint_auth_method: 'client_secret_post',
        redirect_uris: [WEB_REDIRECT],
      },
      { client_id: CLIENTS.spa.id, redirect_uris: [SPA_REDIRECT] },
      {
        client_id: CLIENTS.service.id,
        client_secret: CLIENTS.service.secret,
        redirect_uris: [],
        grant_types: [
          'client_credentials',
          'urn:ietf:params:oauth:grant-type:token-exchange',
          CUSTOM_GRANT,
        ],
        scope: 'api:read',
        resource_server: true,
        allowed_resources: [FUZZ_RESOURCE],
      },
      {
        client_id: CLIENTS.signer.id,
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [{ ...(await exportJWK(signer.publicKey)), kid: 'signer-1' }] },
        redirect_uris: [WEB_REDIRECT],
        grant_types: ['authorization_code'],
      },
      {
        client_id: CLIENTS.tv.id,
        redirect_uris: [],
        grant_types: [
          'urn:ietf:params:oauth:grant-type:device_code',
          'refresh_token',
          CUSTOM_GRANT,
        ],
        allowed_resources: [FUZZ_RESOURCE],
      },
    ],
    clientAssertion: { fetch: async () => new Response('{}', { status: 404 }) },
    grants: {
      [CUSTOM_GRANT]: {
        publicClients: true,
        handler: (request) => {
          if (request.param('assertion') !== PARTNER_ASSERTION)
            throw new GrantError('invalid_grant', 'the assertion is not valid')
          return { sub: 'alice-sub', account: true, scopes: request.requestedScopes ?? [] }
        },
      },
    },
    mfa,
    accounts: [
      {
        username: 'bob',
        password: PASSWORD,
        sub: 'bob-sub',
        claims: { name: 'Bob' },
      },
      {
        username: 'alice',
        password: PASSWORD,
        sub: 'alice-sub',
        claims: { name: 'Alice', email: 'alice@example.com', email_verified: true },
      },
    ],
    ...(autoLogin ? { dangerouslyAutoLogin: 'alice' } : {}),
  })
  // Bob has an authenticator app: his login asks for its code after the password.
  await mfa.importTotp('bob-sub', { secret: TOTP_SECRET })
  return { op, store, now, signerKey: signer.privateKey }
}

/** An `Authorization: Basic` value, form-encoding id and secret (RFC 6749 §2.3.1). */
export function basicHeader(id: string, secret: string): string {
  const enc = (v: string) => new URLSearchParams({ v }).toString().slice(2)
  return `Basic ${Buffer.from(`${enc(id)}:${enc(secret)}`, 'utf8').toString('base64')}`
}

/** A code from a real authorization request at an auto-login OP, with its verifier. */
export async function realCode(world: OpWorld): Promise<{ code: string; verifier: string }> {
  const { codeVerifier, codeChallenge } = await Pkce.generate()
  const url = new URL(`${ISSUER}/authorize`)
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: CLIENTS.web.id,
    redirect_uri: WEB_REDIRECT,
    scope: 'openid profile email offline_access',
    state: 'st',
    nonce: 'n-0123456789',
    code_challenge: codeChallenge,
    code_challenge_method: 'S256',
    prompt: 'consent',
  }).toString()
  const res = await world.op.handler(new Request(url))
  const location = res.headers.get('location')
  if (!location?.startsWith(WEB_REDIRECT)) throw new Error(`authorize answered ${res.status}`)
  const code = new URL(location).searchParams.get('code')
  if (!code) throw new Error(`no code in ${location}`)
  return { code, verifier: codeVerifier }
}

/** The token request that redeems `code` exactly right. */
export function tokenRequest(fields: [string, string][], authorization?: string): Request {
  return new Request(`${ISSUER}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(authorization ? { authorization } : {}),
    },
    body: new URLSearchParams(fields).toString(),
  })
}

/** Tokens from redeeming a real code: planted secrets for the fuzzers. */
export async function realTokens(
  world: OpWorld,
): Promise<{ accessToken: string; refreshToken: string; idToken: string }> {
  const { code, verifier } = await realCode(world)
  const res = await world.op.handler(
    tokenRequest(
      [
        ['grant_type', 'authorization_code'],
        ['code', code],
        ['redirect_uri', WEB_REDIRECT],
        ['code_verifier', verifier],
      ],
      basicHeader(CLIENTS.web.id, CLIENTS.web.secret),
    ),
  )
  const body = (await res.json()) as Record<string, string>
  if (!body.access_token || !body.refresh_token || !body.id_token)
    throw new Error(`token answered ${res.status} ${JSON.stringify(body)}`)
  return {
    accessToken: body.access_token,
    refreshToken: body.refresh_token,
    idToken: body.id_token,
  }
}
