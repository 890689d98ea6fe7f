/**
 * The OP's own sealing keys: what it seals interaction cookies and MACs CSRF tokens with. Given
 * `createOp({ secret })` (one or a list, ≥ 32 bytes each, newest first), the keys are derived
 * from it with HKDF per purpose (`src/core/keyring.ts`): the first seals, all open. Without a
 * secret the OP keeps random 32-byte keys in its store (record kind `sealKey`, never published
 * or used to sign), so every instance over one store agrees: at start it reads them, and makes
 * one when there is none. Two instances starting at once may each make one; both stay valid, the
 * oldest seals, and a cookie naming a key this instance has not seen makes it read them again
 * (at most once every {@link RELOAD_AFTER_MS}, so forged cookies cannot turn into a read flood).
 *
 * @module
 */
import { encodeBase64url } from '../core/base64url.ts'
import type { Clock } from '../core/clock.ts'
import { defaultCrypto } from '../core/crypto/index.ts'
import { createKeyring, type DerivedKey, type Keyring, type Secret } from '../core/keyring.ts'
import { randomToken } from '../core/random.ts'
import { configError } from './config.ts'
import type { OpStore, SealKeyRecord } from './store/types.ts'

/** How soon an unknown `kid` may make the store's keys be read again. */
export const RELOAD_AFTER_MS = 5_000

/** Per-purpose keys of the OP: `[0]` seals or MACs, every one opens or verifies. */
export interface SealKeys {
  keys(purpose: string): Promise<readonly DerivedKey[]>
  /** The key named `kid` for `purpose`, reading the store again (rarely) when it is unknown. */
  find(purpose: string, kid: string): Promise<DerivedKey | undefined>
}

/** The secret list of `createOp({ secret })`, checked as the keyring checks it. */
function keyringOf(secret: Secret | readonly Secret[]): Keyring {
  try {
    return createKeyring(secret)
  } catch (err) {
    throw configError(`"secret": ${err instanceof Error ? err.message : 'invalid'}`)
  }
}

/** Keys from a fixed secret: nothing stored. */
function fromSecret(secret: Secret | readonly Secret[]): SealKeys {
  const keyring = keyringOf(secret)
  return {
    keys: (purpose) => keyring.keys(purpose),
    find: async (purpose, kid) => (await keyring.keys(purpose)).find((k) => k.kid === kid),
  }
}

/** The stored keys, oldest first (ties by id), as secrets; one made when there is none. */
async function storedSecrets(store: OpStore, clock: Clock): Promise<Uint8Array[]> {
  let records = await store.list('sealKey')
  if (records.length === 0) {
    const id = randomToken(16)
    const record: SealKeyRecord = {
      id,
      secret: encodeBase64url(defaultCrypto.randomBytes(32)),
      createdAt: clock.now(),
    }
    await store.set('sealKey', id, record)
    // Another instance may have made one at the same time: read again, so both pick the oldest.
    records = await store.list('sealKey')
    if (!records.some((r) => r.id === id)) records = [...records, record]
  }
  return [...records]
    .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((r) => new TextEncoder().encode(r.secret))
}

/** Keys kept in the store (see the module comment). */
async function fromStore(store: OpStore, clock: Clock): Promise<SealKeys> {
  let keyring = createKeyring(await storedSecrets(store, clock))
  // The first unknown kid reads at once (another instance's key, just made); later ones wait.
  let reloadedAt = Number.NEGATIVE_INFINITY
  let reloading: Promise<void> | undefined
  const reload = async () => {
    reloadedAt = clock.now()
    keyring = createKeyring(await storedSecrets(store, clock))
  }
  return {
    keys: (purpose) => keyring.keys(purpose),
    async find(purpose, kid) {
      const known = (await keyring.keys(purpose)).find((k) => k.kid === kid)
      if (known || clock.now() - reloadedAt < RELOAD_AFTER_MS) return known
      reloading ??= reload().finally(() => {
        reloading = undefined
      })
      await reloading
      return (await keyring.keys(purpose)).find((k) => k.kid === kid)
    },
  }
}

/**
 * The OP's sealing keys: derived from `secret` when given, else kept in `store`.
 *
 * @example
 * ```ts
 * const seal = await createSealKeys({ store, clock, secret: process.env.OP_SECRET })
 * const [current] = await seal.keys('op-interaction')
 * ```
 */
export async function createSealKeys(deps: {
  store: OpStore
  clock: Clock
  secret?: Secret | readonly Secret[] | undefined
}): Promise<SealKeys> {
  return deps.secret === undefined ? fromStore(deps.store, deps.clock) : fromSecret(deps.secret)
}
