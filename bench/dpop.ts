// What DPoP (RFC 9449) costs the server, in process: a client_credentials token request with a
// proof (verified, jti remembered in the store, token bound with cnf.jkt) against the same request
// without one; and bearer({ secret, dpop }) accepting a DPoP-bound HS256 token with its proof
// against bearer({ secret }) accepting a bearer token. The proofs are made before the timing
// (each is used once), so the rows are the server's work, not the client's signing.

import { SignJWT } from 'jose'
import { createDpopProof, generateDpopKey } from '../src/dpop/index.ts'
import { bearer } from '../src/engine/guards/bearer.ts'
import { createOp } from '../src/op/create-op.ts'
import { createMemoryOpStore } from '../src/op/store/memory.ts'
import { type Comparison, compare, opPost, withCpuMicros } from './lib.ts'

const ISSUER = 'http://127.0.0.1:9102'
const SECRET = 'svc-secret-0123456789abcdefghijklmnop'
const HS_SECRET = new TextEncoder().encode('bench-secret-bench-secret-bench-secret-0123')
const API = 'https://api.bench/orders'

/** `n` proofs, made in parallel batches; `take()` hands out each once. */
async function proofPool(n: number, make: () => Promise<string>) {
  const proofs: string[] = []
  while (proofs.length < n) proofs.push(...(await Promise.all(Array.from({ length: 500 }, make))))
  let next = 0
  return () => {
    const proof = proofs[next++]
    if (proof === undefined) throw new Error('DPoP bench: the proof pool ran out (raise its size)')
    return proof
  }
}

export async function dpopBenchmarks(
  options: { rounds?: number; ms?: number } = {},
): Promise<Comparison[]> {
  const timing = { rounds: options.rounds ?? 5, ms: options.ms ?? 300 }
  const key = await generateDpopKey()
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
    ],
  })
  const authorization = `Basic ${Buffer.from(`svc:${SECRET}`).toString('base64')}`
  const token = async (headers: Record<string, string>, type: string) => {
    const response = await op.handleMessage(
      opPost(ISSUER, '/token', { grant_type: 'client_credentials' }, { authorization, ...headers }),
    )
    if (response.status !== 200 || !response.body?.includes(`"token_type":"${type}"`))
      throw new Error(`token request: ${response.status} ${response.body}`)
  }
  const tokenProof = await proofPool(40_000, () =>
    createDpopProof(key, { method: 'POST', url: `${ISSUER}/token` }),
  )
  const tokenRow = await compare(
    'DPoP at the token endpoint: client_credentials with a proof (OP message path, in process)',
    ['bearer token request', () => token({}, 'Bearer')],
    ['DPoP-bound token request', () => token({ dpop: tokenProof() }, 'DPoP')],
    timing,
  )
  store.close()

  const claims = {
    iss: 'https://issuer.bench',
    aud: 'https://api.bench',
    sub: 'user-1',
    scope: 'orders:read',
    exp: Math.floor(Date.now() / 1000) + 3600,
  }
  const sign = (extra: Record<string, unknown>) =>
    new SignJWT({ ...claims, ...extra })
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
      .sign(HS_SECRET)
  const plain = await sign({})
  const bound = await sign({ cnf: { jkt: key.thumbprint } })
  const guardOptions = { secret: HS_SECRET, issuer: claims.iss, audience: claims.aud }
  const plainGuard = bearer(guardOptions)
  const dpopGuard = bearer({ ...guardOptions, dpop: {} })
  const apiProof = await proofPool(60_000, () =>
    createDpopProof(key, { method: 'GET', url: API, accessToken: bound }),
  )
  const pass = async (guard: typeof plainGuard, headers: Record<string, string>) => {
    const result = await guard({ url: API, method: 'GET', headers: new Headers(headers) })
    if (!result.ok) throw new Error(`guard refused: ${result.response.status}`)
  }
  const guardRow = await compare(
    'bearer({ secret, dpop }): a DPoP-bound HS256 token with its proof (in process)',
    [
      'bearer({ secret }), bearer token',
      () => pass(plainGuard, { authorization: `Bearer ${plain}` }),
    ],
    [
      'DPoP-bound token + proof',
      () => pass(dpopGuard, { authorization: `DPoP ${bound}`, dpop: apiProof() }),
    ],
    timing,
  )
  return [tokenRow, guardRow].map(withCpuMicros)
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const row of await dpopBenchmarks()) console.log(row)
}
