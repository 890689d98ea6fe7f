/**
 * The AES-GCM `CryptoKey` of a derived key, imported once (given raw bytes, jose would import
 * them again on every call): the key of every `dir`/`A256GCM` seal (flow state, sealed OP
 * interactions, TOTP secrets at rest). Web Crypto only, so any layer may use it.
 *
 * @module
 */
import type { DerivedKey } from './keyring.ts'

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
