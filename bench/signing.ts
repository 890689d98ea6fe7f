// ID-token signing per algorithm (the OP's signer, node:crypto path), each against ES256 in the
// same run: CPU µs per token and the ratio. And the start cost of several algorithms: createOp
// makes only the default key; RSA keys (hundreds of ms) are made on first need.
import { generateKeyPair } from 'jose'
import { createOp } from '../src/op/create-op.ts'
import { createKeyManager } from '../src/op/keys.ts'
import { SIGNING_ALGS, type SigningAlg } from '../src/op/signing-algs.ts'
import { createMemoryOpStore } from '../src/op/store/memory.ts'
import { issueIdToken } from '../src/op/tokens/jwt.ts'
import { type Comparison, compare, withCpuMicros } from './lib.ts'

const clock = { now: () => Date.now() }
const grant = { clientId: 'app', sub: 'alice', authTime: 1_700_000_000, sid: 'sid-1' }
const extra = (alg: SigningAlg) => ({
  nonce: 'n-0123456789abcdefghij',
  accessToken: 'a'.repeat(600),
  claims: { name: 'Alice', email: 'alice@example.com' },
  alg,
})

export async function signingBenchmarks(): Promise<Comparison[]> {
  const store = createMemoryOpStore({ clock })
  const keys = createKeyManager({
    store,
    algs: { default: 'ES256', all: [...SIGNING_ALGS] },
    clock,
    retentionMs: 660_000,
  })
  const deps = { keys, issuer: 'https://op.example', clock }
  for (const alg of SIGNING_ALGS) await issueIdToken(grant, extra(alg), 600, deps)
  const rows: Comparison[] = []
  for (const alg of SIGNING_ALGS.filter((a) => a !== 'ES256')) {
    rows.push(
      await compare(
        `ID token signing (issueIdToken), ES256 vs ${alg}`,
        ['ES256', () => issueIdToken(grant, extra('ES256'), 600, deps)],
        [alg, () => issueIdToken(grant, extra(alg), 600, deps)],
        { rounds: 3, ms: 150 },
      ),
    )
  }
  store.close()
  return rows.map(withCpuMicros)
}

/** Milliseconds: createOp with the default algorithms (ES256 key at start), and each key's generation. */
export async function signingStartCost(): Promise<{
  startMs: number
  keygenMs: Record<SigningAlg, number>
}> {
  const quiet = { warn() {}, error() {} }
  const starts: number[] = []
  for (let i = 0; i < 5; i++) {
    const store = createMemoryOpStore({ clock })
    const t = performance.now()
    await createOp({ issuer: 'https://op.example', store, logger: quiet })
    starts.push(performance.now() - t)
    store.close()
  }
  const keygenMs = {} as Record<SigningAlg, number>
  for (const alg of SIGNING_ALGS) {
    const rsa = alg === 'RS256' || alg === 'PS256'
    const n = rsa ? 5 : 20
    const t = performance.now()
    for (let i = 0; i < n; i++)
      await generateKeyPair(alg, { extractable: true, ...(rsa ? { modulusLength: 2048 } : {}) })
    keygenMs[alg] = (performance.now() - t) / n
  }
  starts.sort((a, b) => a - b)
  return { startMs: starts[2] as number, keygenMs }
}
