// What the FAPI 2.0 profile costs the OP per token request, in process: a client_credentials
// request of a FAPI 2.0 OP (`profile: 'fapi2'`: an ES256 client assertion verified and its jti
// remembered, an ES256 DPoP proof verified and its jti remembered, the token bound with cnf.jkt)
// against the same request of a default OP authenticated by client_secret_basic and answered
// with a bearer token. Assertions and proofs are made before the timing (each is used once), so
// the row is the server's work, not the client's signing.

import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { generateDpopKey } from '../src/dpop/key.ts'
import { createDpopProof } from '../src/dpop/proof.ts'
import { createOp } from '../src/op/create-op.ts'
import { createMemoryOpStore } from '../src/op/store/memory.ts'
import { type Comparison, compare, opPost, withCpuMicros } from './lib.ts'

const PLAIN = 'http://127.0.0.1:9104'
const FAPI = 'http://127.0.0.1:9105'
const SECRET = 'svc-secret-0123456789abcdefghijklmnop'
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
const quiet = { warn: () => {}, error: () => {}, info: () => {} }

export async function fapi2Benchmarks(
  options: { rounds?: number; ms?: number; pool?: number } = {},
): Promise<Comparison[]> {
  const timing = { rounds: options.rounds ?? 5, ms: options.ms ?? 300 }
  const { privateKey, publicKey } = await generateKeyPair('ES256')
  const stores = [createMemoryOpStore(), createMemoryOpStore()] as const
  const plain = await createOp({
    issuer: PLAIN,
    store: stores[0],
    logger: quiet,
    clients: [
      {
        client_id: 'svc',
        client_secret: SECRET,
        redirect_uris: [],
        grant_types: ['client_credentials'],
      },
    ],
  })
  const fapi = await createOp({
    issuer: FAPI,
    profile: 'fapi2',
    store: stores[1],
    logger: quiet,
    clients: [
      {
        client_id: 'bank',
        jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1' }] },
        redirect_uris: [],
        grant_types: ['client_credentials'],
      },
    ],
  })
  const dpopKey = await generateDpopKey()
  const prepare = async () => {
    const now = Math.floor(Date.now() / 1000)
    const assertion = await new SignJWT({ jti: crypto.randomUUID() })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer('bank')
      .setSubject('bank')
      .setAudience(FAPI)
      .setIssuedAt(now)
      .setExpirationTime(now + 280)
      .sign(privateKey)
    const proof = await createDpopProof(dpopKey, { method: 'POST', url: `${FAPI}/token` })
    return { assertion, proof }
  }
  const pool: { assertion: string; proof: string }[] = []
  const size = options.pool ?? 30_000
  while (pool.length < size) pool.push(...(await Promise.all(Array.from({ length: 500 }, prepare))))
  let next = 0
  const authorization = `Basic ${Buffer.from(`svc:${SECRET}`).toString('base64')}`
  const token = async (
    op: typeof plain,
    issuer: string,
    form: Record<string, string>,
    headers: Record<string, string>,
  ) => {
    const response = await op.handleMessage(
      opPost(issuer, '/token', { grant_type: 'client_credentials', ...form }, headers),
    )
    if (response.status !== 200)
      throw new Error(`token request: ${response.status} ${response.body}`)
  }
  const row = await compare(
    'FAPI 2.0 profile at the token endpoint: client_credentials with an ES256 assertion and an ES256 DPoP proof (OP message path, in process)',
    ['default OP, client_secret_basic, bearer', () => token(plain, PLAIN, {}, { authorization })],
    [
      'FAPI 2.0 OP, private_key_jwt + DPoP',
      () => {
        const item = pool[next++]
        if (item === undefined) throw new Error('FAPI 2.0 bench: the pool ran out')
        return token(
          fapi,
          FAPI,
          { client_assertion_type: JWT_BEARER, client_assertion: item.assertion },
          { dpop: item.proof },
        )
      },
    ],
    timing,
  )
  for (const store of stores) store.close()
  return [row].map(withCpuMicros)
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const row of await fapi2Benchmarks()) console.log(row)
}
