/**
 * Signing keys: generated on first start and kept in the store, so every instance sharing a store
 * signs and verifies with the same keys. The newest key of the configured algorithm signs; every
 * stored key stays in the JWKS so tokens signed before a rotation still verify.
 *
 * @module
 */
import { exportJWK, generateKeyPair, importJWK } from 'jose'
import type { Clock } from '../core/clock.ts'
import type { Jwk } from '../core/jwt-types.ts'
import { randomToken } from '../core/random.ts'
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
  /** The key that signs now (created on first use). */
  signingKey(): Promise<SigningKey>
  /** The public keys to publish. */
  publicJwks(): Promise<{ keys: Jwk[] }>
  /** The public key for a `kid`, for verifying the OP's own tokens. */
  verificationKey(kid: string): Promise<{ key: CryptoKey; alg: string } | undefined>
  /**
   * Makes a new signing key and retires the others: their private parts are deleted at once,
   * their public parts stay published until every token they signed has expired.
   */
  rotate(): Promise<SigningKey>
  /** Deletes a key outright (a compromised key): its tokens stop verifying at once. */
  revoke(kid: string): Promise<void>
}

const GENERATE: Record<SigningKeyRecord['alg'], Parameters<typeof generateKeyPair>> = {
  ES256: ['ES256', { extractable: true }],
  RS256: ['RS256', { extractable: true, modulusLength: 2048 }],
  EdDSA: ['EdDSA', { extractable: true, crv: 'Ed25519' }],
}

/** Keys over a store. */
export function createKeyManager(deps: {
  store: OpStore
  alg: SigningKeyRecord['alg']
  clock: Clock
  /** How long a retired key keeps verifying: the longest token lifetime, in ms. */
  retentionMs: number
}): KeyManager {
  const imported = new Map<string, Promise<SigningKey>>()
  const publicImported = new Map<string, Promise<CryptoKey>>()
  let creating: Promise<SigningKeyRecord> | undefined

  async function create(): Promise<SigningKeyRecord> {
    const pair = await generateKeyPair(...GENERATE[deps.alg])
    const kid = randomToken(16)
    const record: SigningKeyRecord = {
      kid,
      alg: deps.alg,
      privateJwk: { ...(await exportJWK(pair.privateKey)), kid, alg: deps.alg },
      publicJwk: { ...(await exportJWK(pair.publicKey)), kid, alg: deps.alg, use: 'sig' },
      createdAt: deps.clock.now(),
    }
    await deps.store.set('key', kid, record)
    return record
  }

  function published(key: SigningKeyRecord): boolean {
    return key.retiredAt === undefined || key.retiredAt + deps.retentionMs > deps.clock.now()
  }

  // The signing key is looked up at most every 30 s (not per token): a rotation made by another
  // instance sharing the store is picked up within that time; its retired key still verifies.
  let cached: { record: SigningKeyRecord; until: number } | undefined

  async function current(): Promise<SigningKeyRecord> {
    const now = deps.clock.now()
    if (cached && cached.until > now) return cached.record
    const record = await lookup()
    cached = { record, until: now + 30_000 }
    return record
  }

  async function lookup(): Promise<SigningKeyRecord> {
    const keys = (await deps.store.list('key')).filter(
      (k) => k.alg === deps.alg && k.privateJwk !== undefined && k.retiredAt === undefined,
    )
    const newest = keys.sort((a, b) => b.createdAt - a.createdAt || a.kid.localeCompare(b.kid))[0]
    if (newest) return newest
    creating ??= create().finally(() => {
      creating = undefined
    })
    return creating
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

  return {
    async signingKey() {
      return toSigningKey(await current())
    },
    async publicJwks() {
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
    async rotate() {
      const next = await create()
      cached = undefined
      const now = deps.clock.now()
      for (const key of await deps.store.list('key')) {
        if (key.kid === next.kid || key.retiredAt !== undefined) continue
        const { privateJwk: _dropped, ...rest } = key
        await deps.store.set('key', key.kid, { ...rest, retiredAt: now })
      }
      return toSigningKey(next)
    },
    async revoke(kid: string) {
      await deps.store.delete('key', kid)
      cached = undefined
      imported.delete(kid)
      publicImported.delete(kid)
    },
  }
}
