/**
 * Signing keys: one current key per configured algorithm, kept in the store, so every instance
 * sharing a store signs and verifies with the same keys. The newest key of an algorithm signs;
 * every stored key stays in the JWKS so tokens signed before a rotation still verify.
 *
 * The default algorithm's key is made at start; the others on first need (the first JWKS
 * request or the first token of that algorithm), since an RSA key costs hundreds of
 * milliseconds to generate. The JWKS waits for them: it always lists a key of every configured
 * algorithm.
 *
 * @module
 */
import { exportJWK, generateKeyPair, importJWK } from 'jose'
import type { Clock } from '../core/clock.ts'
import type { Jwk } from '../core/jwt-types.ts'
import { randomToken } from '../core/random.ts'
import { configError } from './config.ts'
import type { ResolvedSigningAlgs, SigningAlg } from './signing-algs.ts'
import type { OpStore, SigningKeyRecord } from './store/types.ts'
import { createTokenSigner, type TokenSigner } from './tokens/signer.ts'

/** A key ready to sign. */
export interface SigningKey {
  readonly kid: string
  readonly alg: SigningKeyRecord['alg']
  readonly key: CryptoKey
  /** Signs JWTs with this key (made once per key). */
  readonly signer: TokenSigner
}

/** The OP's keys. */
export interface KeyManager {
  /** The configured algorithms, the default first. */
  readonly algs: readonly SigningAlg[]
  /** The key of `alg` (default: the OP's default algorithm) that signs now, made on first use. */
  signingKey(alg?: SigningAlg): Promise<SigningKey>
  /** The public keys to publish: at least one of every configured algorithm. */
  publicJwks(): Promise<{ keys: Jwk[] }>
  /** The public key for a `kid`, for verifying the OP's own tokens. */
  verificationKey(kid: string): Promise<{ key: CryptoKey; alg: string } | undefined>
  /**
   * Makes a new signing key of `alg` (default: of every configured algorithm) and retires the
   * keys it replaces: their private parts are deleted at once, their public parts stay published
   * until every token they signed has expired. Answers the new key of `alg` (or of the default).
   */
  rotate(alg?: SigningAlg): Promise<SigningKey>
  /** Deletes a key outright (a compromised key): its tokens stop verifying at once. */
  revoke(kid: string): Promise<void>
}

const GENERATE: Record<SigningKeyRecord['alg'], Parameters<typeof generateKeyPair>> = {
  ES256: ['ES256', { extractable: true }],
  RS256: ['RS256', { extractable: true, modulusLength: 2048 }],
  PS256: ['PS256', { extractable: true, modulusLength: 2048 }],
  EdDSA: ['EdDSA', { extractable: true, crv: 'Ed25519' }],
}

// The signing key of an algorithm is looked up at most every 30 s (not per token): a rotation
// made by another instance sharing the store is picked up within that time; its retired key
// still verifies.
const LOOKUP_MS = 30_000

/**
 * Keys over a store.
 *
 * @example
 * ```ts
 * const keys = createKeyManager({ store, algs, clock, retentionMs: 660_000 })
 * const { signer } = await keys.signingKey('PS256')
 * ```
 */
export function createKeyManager(deps: {
  store: OpStore
  algs: ResolvedSigningAlgs
  clock: Clock
  /** How long a retired key keeps verifying: the longest token lifetime, in ms. */
  retentionMs: number
}): KeyManager {
  const algs = deps.algs.all
  const imported = new Map<string, Promise<SigningKey>>()
  const publicImported = new Map<string, Promise<CryptoKey>>()
  const creating = new Map<SigningAlg, Promise<SigningKeyRecord>>()
  const cached = new Map<SigningAlg, { record: SigningKeyRecord; until: number }>()

  function configured(alg: SigningAlg): SigningAlg {
    if (!algs.includes(alg))
      throw configError(`"${alg}" is not one of the OP's "signingAlgs" (${algs.join(', ')})`)
    return alg
  }

  async function create(alg: SigningAlg): Promise<SigningKeyRecord> {
    const pair = await generateKeyPair(...GENERATE[alg])
    const kid = randomToken(16)
    const record: SigningKeyRecord = {
      kid,
      alg,
      privateJwk: { ...(await exportJWK(pair.privateKey)), kid, alg },
      publicJwk: { ...(await exportJWK(pair.publicKey)), kid, alg, use: 'sig' },
      createdAt: deps.clock.now(),
    }
    await deps.store.set('key', kid, record)
    return record
  }

  function published(key: SigningKeyRecord): boolean {
    return key.retiredAt === undefined || key.retiredAt + deps.retentionMs > deps.clock.now()
  }

  async function current(alg: SigningAlg): Promise<SigningKeyRecord> {
    const now = deps.clock.now()
    const hit = cached.get(alg)
    if (hit && hit.until > now) return hit.record
    const record = await lookup(alg)
    cached.set(alg, { record, until: now + LOOKUP_MS })
    return record
  }

  async function lookup(alg: SigningAlg): Promise<SigningKeyRecord> {
    const keys = (await deps.store.list('key')).filter(
      (k) => k.alg === alg && k.privateJwk !== undefined && k.retiredAt === undefined,
    )
    const newest = keys.sort((a, b) => b.createdAt - a.createdAt || a.kid.localeCompare(b.kid))[0]
    if (newest) return newest
    let pending = creating.get(alg)
    if (!pending) {
      pending = create(alg).finally(() => creating.delete(alg))
      creating.set(alg, pending)
    }
    return pending
  }

  function toSigningKey(record: SigningKeyRecord): Promise<SigningKey> {
    let key = imported.get(record.kid)
    if (!key) {
      key = (importJWK((record.privateJwk ?? {}) as Jwk, record.alg) as Promise<CryptoKey>).then(
        (k) => {
          const signing = { kid: record.kid, alg: record.alg, key: k }
          return { ...signing, signer: createTokenSigner(signing) }
        },
      )
      imported.set(record.kid, key)
    }
    return key
  }

  /** Retires every current key that `fresh` replaces (of `only`, or of every algorithm). */
  async function retire(fresh: ReadonlySet<string>, only: SigningAlg | undefined): Promise<void> {
    const now = deps.clock.now()
    for (const key of await deps.store.list('key')) {
      if (fresh.has(key.kid) || key.retiredAt !== undefined) continue
      if (only !== undefined && key.alg !== only) continue
      const { privateJwk: _dropped, ...rest } = key
      await deps.store.set('key', key.kid, { ...rest, retiredAt: now })
      imported.delete(key.kid)
    }
  }

  return {
    algs,
    async signingKey(alg = deps.algs.default) {
      return toSigningKey(await current(configured(alg)))
    },
    async publicJwks() {
      await Promise.all(algs.map(current))
      const keys = (await deps.store.list('key')).filter(published)
      return { keys: keys.map((k) => k.publicJwk as Jwk) }
    },
    async verificationKey(kid: string) {
      const record = await deps.store.get('key', kid)
      if (!record || !published(record)) return undefined
      let key = publicImported.get(kid)
      if (!key) {
        key = importJWK(record.publicJwk as Jwk, record.alg) as Promise<CryptoKey>
        publicImported.set(kid, key)
      }
      return { key: await key, alg: record.alg }
    },
    async rotate(alg) {
      const targets = alg === undefined ? algs : [configured(alg)]
      const made = await Promise.all(targets.map(create))
      for (const target of targets) cached.delete(target)
      await retire(new Set(made.map((r) => r.kid)), alg)
      const answer = made.find((r) => r.alg === (alg ?? deps.algs.default)) as SigningKeyRecord
      return toSigningKey(answer)
    },
    async revoke(kid: string) {
      await deps.store.delete('key', kid)
      cached.clear()
      imported.delete(kid)
      publicImported.delete(kid)
    },
  }
}
