/**
 * An interaction that costs the OP nothing until the user acts. `beginAuthorization` stores no
 * record: the interaction cookie carries the record itself, sealed (compact JWE `dir`/`A256GCM`,
 * jose) under the OP's `'op-interaction'` key (`seal-keys.ts`), with the issuer and the uid
 * inside, so a cookie opens only at this OP and only for its own interaction. Its age is the
 * record's `createdAt`, checked on every use; the cookie's lifetime is the same `ttl.interaction`.
 *
 * The first POST that passes its checks (bound cookie, unspent CSRF token) *claims* the
 * interaction: `useOnce('interaction:<uid>')` succeeds once, and that POST stores the record
 * under the uid. From then on the stored record is the interaction (failed attempts, a second
 * factor due, signed in awaiting consent), exactly as when every interaction was stored; ending
 * it deletes the record. A copy of the sealed cookie kept back cannot start it again: the claim
 * leaves a revocation marker (`interaction:<uid>`, as long as the cookie could live), and a
 * sealed cookie whose uid has one binds nothing: no page, no POST, no app-hosted `finish`. So an
 * old cookie cannot issue a second code or reset the failed-attempt count.
 *
 * A record too large for a cookie (huge `state`, `login_hint` or resources, over
 * {@link MAX_SEALED_BYTES}) is stored at once, the cookie holding only the uid, as before.
 *
 * @module
 */
import { CompactEncrypt, compactDecrypt, decodeProtectedHeader } from 'jose'
import { aesKeyOf } from '../../../core/aes-key.ts'
import type { OpRuntime } from '../../setup.ts'
import type { InteractionRecord } from '../../store/types.ts'

const PURPOSE = 'op-interaction'
/** A sealed cookie value longer than this is not sent: the record is stored instead. */
export const MAX_SEALED_BYTES = 3_800
const encoder = new TextEncoder()
const decoder = new TextDecoder()

type Deps = Pick<OpRuntime, 'seal' | 'settings' | 'clock' | 'store'>

/** Whether `value` looks like a sealed record (a compact JWE) rather than a bare uid. */
export function isSealed(value: string): boolean {
  return value.length <= MAX_SEALED_BYTES && value.split('.').length === 5
}

/** Seals interaction `uid`; undefined when the result would be too large for a cookie. */
export async function sealInteraction(
  uid: string,
  record: InteractionRecord,
  deps: Deps,
): Promise<string | undefined> {
  const [current] = await deps.seal.keys(PURPOSE)
  if (!current) return undefined
  const plaintext = JSON.stringify({ iss: deps.settings.issuer, uid, record })
  const sealed = await new CompactEncrypt(encoder.encode(plaintext))
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: current.kid })
    .encrypt(await aesKeyOf(current))
  return sealed.length > MAX_SEALED_BYTES ? undefined : sealed
}

/** The record a sealed cookie carries for interaction `uid`, if it opens here and is for it. */
export async function openInteraction(
  value: string,
  uid: string,
  deps: Deps,
): Promise<InteractionRecord | undefined> {
  if (value.length > MAX_SEALED_BYTES) return undefined
  try {
    const { kid } = decodeProtectedHeader(value)
    if (typeof kid !== 'string' || kid.length > 64) return undefined
    const key = await deps.seal.find(PURPOSE, kid)
    if (!key) return undefined
    const { plaintext } = await compactDecrypt(value, await aesKeyOf(key), {
      keyManagementAlgorithms: ['dir'],
      contentEncryptionAlgorithms: ['A256GCM'],
    })
    const opened = JSON.parse(decoder.decode(plaintext)) as {
      iss?: unknown
      uid?: unknown
      record?: InteractionRecord
    }
    if (opened.iss !== deps.settings.issuer || opened.uid !== uid) return undefined
    const record = opened.record
    if (typeof record?.createdAt !== 'number' || typeof record.request !== 'object')
      return undefined
    return record
  } catch {
    return undefined
  }
}

/** The revocation marker of a claimed sealed interaction: its cookie opens nothing any more. */
const claimMarker = (uid: string) => `interaction:${uid}`

/** Whether interaction `uid` was claimed (it may have ended since: its record is gone then). */
export async function wasClaimed(uid: string, deps: Deps): Promise<boolean> {
  return (await deps.store.get('revocation', claimMarker(uid))) !== undefined
}

/**
 * The first state-changing step of a sealed interaction: spends its one claim (atomic), marks
 * its sealed cookie revoked and stores its record. A claim already spent answers the record
 * stored by whoever spent it (a concurrent or earlier POST), or undefined once it has ended.
 */
export async function claimInteraction(
  uid: string,
  record: InteractionRecord,
  deps: Deps,
): Promise<InteractionRecord | undefined> {
  const ttlSeconds = deps.settings.ttl.interaction
  if (await deps.store.useOnce(claimMarker(uid), ttlSeconds)) {
    await deps.store.set('revocation', claimMarker(uid), { reason: 'claimed' }, { ttlSeconds })
    await deps.store.set('interaction', uid, record, { ttlSeconds })
    return record
  }
  return deps.store.get('interaction', uid)
}
