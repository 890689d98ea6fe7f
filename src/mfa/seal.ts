/**
 * TOTP secrets at rest: sealed as a compact JWE (`dir`, `A256GCM`) under a key the keyring
 * derives for `'mfa-totp'`, naming its key by `kid` so rotated secrets still open. The plaintext
 * names the credential and account it belongs to: a sealed secret copied into another row of the
 * store does not open there.
 *
 * @module
 */
import { CompactEncrypt, compactDecrypt, decodeProtectedHeader } from 'jose'
import { aesKeyOf } from '../core/aes-key.ts'
import { AuthkestraError } from '../core/errors.ts'
import type { Keyring } from '../core/keyring.ts'

const PURPOSE = 'mfa-totp'
const encoder = new TextEncoder()
const decoder = new TextDecoder()

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
  const plaintext = JSON.stringify({ s: secret, a: binding.accountId, i: binding.credentialId })
  return new CompactEncrypt(encoder.encode(plaintext))
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: current.kid })
    .encrypt(await aesKeyOf(current))
}

/** Opens a sealed secret; undefined when it does not open or belongs elsewhere. */
export async function openSecret(
  keyring: Keyring,
  sealed: string,
  binding: SealBinding,
): Promise<string | undefined> {
  try {
    const { kid } = decodeProtectedHeader(sealed)
    const key = (await keyring.keys(PURPOSE)).find((k) => k.kid === kid)
    if (!key) return undefined
    const { plaintext } = await compactDecrypt(sealed, await aesKeyOf(key), {
      keyManagementAlgorithms: ['dir'],
      contentEncryptionAlgorithms: ['A256GCM'],
    })
    const value = JSON.parse(decoder.decode(plaintext)) as { s?: unknown; a?: unknown; i?: unknown }
    if (value.a !== binding.accountId || value.i !== binding.credentialId) return undefined
    return typeof value.s === 'string' ? value.s : undefined
  } catch {
    return undefined
  }
}
