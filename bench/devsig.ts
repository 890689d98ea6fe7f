// What a device-bound request costs the API (docs/devsig.md), in process: devsig() verifying an
// ES256 attestation (keys from a JWKS, cached), then an ES256 request signature over a POST with
// a 256-byte body (thumbprint, signature, claims, query and body hashes, jti into the replay
// cache), against bearer() accepting an ES256 access token from the same kind of JWKS. The
// signatures are made before the timing (each is used once), so the rows are the server's work.

import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { createDevsigSignature, generateDpopKey } from '../src/dpop/index.ts'
import { bearer } from '../src/engine/guards/bearer.ts'
import { devsig } from '../src/engine/guards/devsig.ts'
import { type Comparison, compare, withCpuMicros } from './lib.ts'

const ISS = 'https://issuer.bench'
const JWKS = `${ISS}/jwks`
const API = 'https://api.bench'
const URL_ = `${API}/transfers?to=bob`
const BODY = JSON.stringify({ memo: 'x'.repeat(240) })

export async function devsigBenchmarks(
  options: { rounds?: number; ms?: number; pool?: number } = {},
): Promise<Comparison[]> {
  const timing = { rounds: options.rounds ?? 5, ms: options.ms ?? 300 }
  const { privateKey, publicKey } = await generateKeyPair('ES256')
  const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] }
  const fetchJwks = (async () => Response.json(jwks)) as unknown as typeof fetch
  const now = Math.floor(Date.now() / 1000)
  const sign = (typ: string, claims: Record<string, unknown>) =>
    new SignJWT({ iss: ISS, sub: 'alice', iat: now, exp: now + 3600, jti: 'j', ...claims })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ })
      .sign(privateKey)
  const token = await sign('at+jwt', { aud: API, client_id: 'app', scope: 'transfers' })
  const device = await generateDpopKey()
  const attestation = await sign('devsig-attestation+jwt', {
    aud: 'app',
    client_id: 'app',
    cnf: { jkt: device.thumbprint },
  })
  const logger = { warn() {} }
  const plain = bearer({ issuer: ISS, jwksUri: JWKS, audience: API, fetch: fetchJwks, logger })
  const guard = devsig({ issuer: ISS, jwksUri: JWKS, audience: API, fetch: fetchJwks, logger })
  const size = options.pool ?? 20_000
  const signatures: string[] = []
  while (signatures.length < size) {
    signatures.push(
      ...(await Promise.all(
        Array.from({ length: 500 }, () =>
          createDevsigSignature(device, { method: 'POST', url: URL_, body: BODY, audience: API }),
        ),
      )),
    )
  }
  let next = 0
  const body = new TextEncoder().encode(BODY)
  const row = await compare(
    'devsig(): ES256 attestation + ES256 request signature over a 256-byte POST (in process)',
    [
      'bearer(), ES256 access token',
      async () => {
        const result = await plain({
          url: URL_,
          method: 'POST',
          headers: new Headers({ authorization: `Bearer ${token}` }),
        })
        if (!result.ok) throw new Error(`bearer refused: ${result.response.status}`)
      },
    ],
    [
      'devsig(), body bytes passed',
      async () => {
        const signature = signatures[next++]
        if (signature === undefined) throw new Error('devsig bench: the signature pool ran out')
        const headers = new Headers({
          'device-attestation': attestation,
          'device-signature': signature,
          'content-length': String(body.length),
        })
        const result = await guard({ url: URL_, method: 'POST', headers }, body)
        if (!result.ok) throw new Error(`devsig refused: ${result.response.status}`)
      },
    ],
    timing,
  )
  return [row].map(withCpuMicros)
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const row of await devsigBenchmarks()) console.log(row)
}
