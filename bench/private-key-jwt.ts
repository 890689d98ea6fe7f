// What private_key_jwt (RFC 7523 §2.2) costs the OP, in process: a client_credentials token
// request authenticated by a signed client assertion (parsed, key chosen by kid, ES256 signature
// verified through the crypto seam, jti remembered in the store) against the same request with
// client_secret_basic. The assertions are signed before the timing (each is used once), so the
// row is the server's work, not the client's signing.

import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { createOp } from '../src/op/create-op.ts'
import { createMemoryOpStore } from '../src/op/store/memory.ts'
import { type Comparison, compare, opPost, withCpuMicros } from './lib.ts'

const ISSUER = 'http://127.0.0.1:9103'
const SECRET = 'svc-secret-0123456789abcdefghijklmnop'
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

export async function privateKeyJwtBenchmarks(
  options: { rounds?: number; ms?: number; pool?: number } = {},
): Promise<Comparison[]> {
  const timing = { rounds: options.rounds ?? 5, ms: options.ms ?? 300 }
  const { privateKey, publicKey } = await generateKeyPair('ES256')
  const store = createMemoryOpStore()
  const op = await createOp({
    issuer: ISSUER,
    store,
    logger: { warn: () => {}, error: () => {}, info: () => {} },
    clients: [
      {
        client_id: 'svc',
        client_secret: SECRET,
        redirect_uris: [],
        grant_types: ['client_credentials'],
      },
      {
        client_id: 'signed',
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1' }] },
        redirect_uris: [],
        grant_types: ['client_credentials'],
      },
    ],
  })
  const sign = () => {
    const now = Math.floor(Date.now() / 1000)
    return new SignJWT({ jti: crypto.randomUUID() })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer('signed')
      .setSubject('signed')
      .setAudience(ISSUER)
      .setIssuedAt(now)
      .setExpirationTime(now + 280)
      .sign(privateKey)
  }
  const assertions: string[] = []
  const size = options.pool ?? 40_000
  while (assertions.length < size)
    assertions.push(...(await Promise.all(Array.from({ length: 500 }, sign))))
  let next = 0
  const authorization = `Basic ${Buffer.from(`svc:${SECRET}`).toString('base64')}`
  const token = async (form: Record<string, string>, headers: Record<string, string>) => {
    const response = await op.handleMessage(
      opPost(ISSUER, '/token', { grant_type: 'client_credentials', ...form }, headers),
    )
    if (response.status !== 200)
      throw new Error(`token request: ${response.status} ${response.body}`)
  }
  const row = await compare(
    'private_key_jwt at the token endpoint: client_credentials with an ES256 assertion (OP message path, in process)',
    ['client_secret_basic', () => token({}, { authorization })],
    [
      'private_key_jwt',
      () => {
        const assertion = assertions[next++]
        if (assertion === undefined) throw new Error('private_key_jwt bench: the pool ran out')
        return token({ client_assertion_type: JWT_BEARER, client_assertion: assertion }, {})
      },
    ],
    timing,
  )
  store.close()
  return [row].map(withCpuMicros)
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const row of await privateKeyJwtBenchmarks()) console.log(row)
}
