/**
 * Sealing under a derived key: a compact JWE (`dir`, `A256GCM`) naming its key by `kid`, so values
 * sealed before a rotation still open. Each derived key is imported once as an AES-GCM
 * `CryptoKey` (given raw bytes, jose would import them again on every call). The OP's sealed
 * interactions and the second factors' secrets at rest use it; the flow state uses its keys.
 *
 * @module
 */
import { CompactEncrypt, compactDecrypt, decodeProtectedHeader } from 'jose'
import type { DerivedKey } from './keyring.ts'

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const imported = new WeakMap<DerivedKey, Promise<CryptoKey>>()

/**
 * The AES-GCM `CryptoKey` of a derived key, imported on first use.
 *
 * @example
 * ```ts
 * const jwe = await new EncryptJWT(claims).setProtectedHeader(header).encrypt(await aesKeyOf(key))
 * ```
 */
export function aesKeyOf(key: DerivedKey): Promise<CryptoKey> {
  let cryptoKey = imported.get(key)
  if (!cryptoKey) {
    cryptoKey = crypto.subtle.importKey('raw', new Uint8Array(key.key), 'AES-GCM', false, [
      'encrypt',
      'decrypt',
    ])
    imported.set(key, cryptoKey)
  }
  return cryptoKey
}

/**
 * Seals `plaintext` (JSON text) under `key`.
 *
 * @example
 * ```ts
 * const sealed = await sealText(current, JSON.stringify(value))
 * ```
 */
export async function sealText(key: DerivedKey, plaintext: string): Promise<string> {
  return new CompactEncrypt(encoder.encode(plaintext))
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: key.kid })
    .encrypt(await aesKeyOf(key))
}

/**
 * Opens what {@link sealText} sealed, with the key `find` gives for its `kid`; undefined when
 * it names no known key or does not open.
 *
 * @example
 * ```ts
 * const text = await openText(sealed, (kid) => keys.find((k) => k.kid === kid))
 * ```
 */
export async function openText(
  sealed: string,
  find: (kid: string) => DerivedKey | undefined | Promise<DerivedKey | undefined>,
): Promise<string | undefined> {
  try {
    const { kid } = decodeProtectedHeader(sealed)
    if (typeof kid !== 'string' || kid.length > 64) return undefined
    const key = await find(kid)
    if (!key) return undefined
    const { plaintext } = await compactDecrypt(sealed, await aesKeyOf(key), {
      keyManagementAlgorithms: ['dir'],
      contentEncryptionAlgorithms: ['A256GCM'],
    })
    return decoder.decode(plaintext)
  } catch {
    return undefined
  }
}
