/**
 * TOTP secrets at rest: sealed as a compact JWE (`dir`, `A256GCM`) under a key the keyring
 * derives for `'mfa-totp'`, naming its key by `kid` so rotated secrets still open. The plaintext
 * names the credential and account it belongs to: a sealed secret copied into another row of the
 * store does not open there.
 *
 * @module
 */
import { AuthkestraError } from '../core/errors.ts'
import type { Keyring } from '../core/keyring.ts'
import { openText, sealText } from '../core/seal.ts'

const PURPOSE = 'mfa-totp'

/** What a sealed secret belongs to. */
export interface SealBinding {
  readonly accountId: string
  readonly credentialId: string
}

/** Seals a base32 TOTP secret for one credential. */
export async function sealSecret(
  keyring: Keyring,
  secret: string,
  binding: SealBinding,
): Promise<string> {
  const [current] = await keyring.keys(PURPOSE)
  if (!current) throw new AuthkestraError('config_invalid', 'the keyring has no key')
  return sealText(
    current,
    JSON.stringify({ s: secret, a: binding.accountId, i: binding.credentialId }),
  )
}

/** Opens a sealed secret; undefined when it does not open or belongs elsewhere. */
export async function openSecret(
  keyring: Keyring,
  sealed: string,
  binding: SealBinding,
): Promise<string | undefined> {
  const keys = await keyring.keys(PURPOSE)
  const text = await openText(sealed, (kid) => keys.find((k) => k.kid === kid))
  if (text === undefined) return undefined
  try {
    const value = JSON.parse(text) as { s?: unknown; a?: unknown; i?: unknown }
    if (value.a !== binding.accountId || value.i !== binding.credentialId) return undefined
    return typeof value.s === 'string' ? value.s : undefined
  } catch {
    return undefined
  }
}
