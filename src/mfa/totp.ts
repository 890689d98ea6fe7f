/**
 * TOTP (RFC 6238) over HOTP (RFC 4226): secrets, `otpauth://` URIs with a QR code, codes and
 * their verification. Verification checks every step of the window in constant time and refuses
 * a step at or before the last one accepted, so a code seen over a shoulder cannot be replayed.
 *
 * @module
 */
import { renderSVG } from 'uqr'
import { type CryptoBackend, defaultCrypto, type HmacHash } from '../core/crypto/index.ts'
import { AuthkestraError } from '../core/errors.ts'
import { decodeBase32, encodeBase32 } from './base32.ts'

/** The parameters of a TOTP credential (RFC 6238 §1.2); every app supports the defaults. */
export interface TotpParams {
  /** HMAC hash; default `'SHA-1'`, the only one every authenticator app honours. */
  readonly algorithm?: HmacHash
  /** Code length, 6 to 8; default 6. */
  readonly digits?: number
  /** Time step in seconds (RFC 6238 §4.1 X); default 30. */
  readonly period?: number
}

/** Options of {@link verifyTotp}. */
export interface VerifyTotpOptions extends TotpParams {
  /** Milliseconds since the epoch. */
  readonly now: number
  /** Steps accepted either side of now (clock drift, RFC 6238 §5.2); default 1. */
  readonly window?: number
  /** The last step accepted for this secret: it and earlier steps are refused (replay). */
  readonly lastStep?: number
  readonly crypto?: CryptoBackend
}

const encoder = new TextEncoder()

function params(options: TotpParams): Required<TotpParams> {
  const algorithm = options.algorithm ?? 'SHA-1'
  const digits = options.digits ?? 6
  const period = options.period ?? 30
  if (!['SHA-1', 'SHA-256', 'SHA-512'].includes(algorithm))
    throw new AuthkestraError(
      'config_invalid',
      'TOTP "algorithm" must be SHA-1, SHA-256 or SHA-512',
    )
  if (!Number.isInteger(digits) || digits < 6 || digits > 8)
    throw new AuthkestraError('config_invalid', 'TOTP "digits" must be an integer from 6 to 8')
  if (!Number.isInteger(period) || period < 1 || period > 300)
    throw new AuthkestraError('config_invalid', 'TOTP "period" must be an integer from 1 to 300')
  return { algorithm, digits, period }
}

function secretBytes(secret: string): Uint8Array {
  const bytes = decodeBase32(secret)
  if (!bytes || bytes.length < 10)
    throw new AuthkestraError('config_invalid', 'a TOTP secret must be base32 of at least 10 bytes')
  return bytes
}

/**
 * A new random TOTP secret, base32 (default 20 bytes, the HMAC-SHA-1 block RFC 4226 §4
 * recommends; 32 characters).
 *
 * @example
 * ```ts
 * const secret = generateTotpSecret() // e.g. 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP'
 * ```
 */
export function generateTotpSecret(bytes = 20, backend: CryptoBackend = defaultCrypto): string {
  if (!Number.isInteger(bytes) || bytes < 16 || bytes > 64)
    throw new AuthkestraError('config_invalid', 'TOTP secret length must be 16 to 64 bytes')
  return encodeBase32(backend.randomBytes(bytes))
}

/**
 * The HOTP value (RFC 4226 §5.3) of `secret` (raw bytes) at `counter`.
 *
 * @example
 * ```ts
 * await hotp(new TextEncoder().encode('12345678901234567890'), 0) // '755224' (RFC 4226 App. D)
 * ```
 */
export async function hotp(
  secret: Uint8Array,
  counter: number,
  options: TotpParams & { crypto?: CryptoBackend } = {},
): Promise<string> {
  const { algorithm, digits } = params(options)
  if (!Number.isSafeInteger(counter) || counter < 0)
    throw new AuthkestraError('config_invalid', 'HOTP counter must be a non-negative integer')
  const message = new Uint8Array(8)
  new DataView(message.buffer).setBigUint64(0, BigInt(counter))
  const mac = await (options.crypto ?? defaultCrypto).hmac(algorithm, secret, message)
  const offset = (mac[mac.length - 1] as number) & 0x0f
  const binary =
    (((mac[offset] as number) & 0x7f) << 24) |
    ((mac[offset + 1] as number) << 16) |
    ((mac[offset + 2] as number) << 8) |
    (mac[offset + 3] as number)
  return String(binary % 10 ** digits).padStart(digits, '0')
}

/**
 * The time step (RFC 6238 §4.2 T) of `now` (ms).
 *
 * @example
 * ```ts
 * totpStep(59_000) // 1
 * ```
 */
export function totpStep(now: number, period = 30): number {
  return Math.floor(now / 1000 / period)
}

/**
 * The TOTP code of a base32 secret at `now` (ms since the epoch).
 *
 * @example
 * ```ts
 * const code = await totpCode(secret, Date.now())
 * ```
 */
export async function totpCode(
  secret: string,
  now: number,
  options: TotpParams & { crypto?: CryptoBackend } = {},
): Promise<string> {
  return hotp(secretBytes(secret), totpStep(now, params(options).period), options)
}

/**
 * Checks a code the user typed against a base32 secret: the step it matched (store it as the
 * next `lastStep`), or undefined. Spaces in the code are ignored; anything but exactly `digits`
 * digits fails. Every step of the window is computed and compared without an early exit.
 *
 * @example
 * ```ts
 * const step = await verifyTotp(secret, '123 456', { now: Date.now(), lastStep })
 * if (step === undefined) throw new Error('wrong code')
 * ```
 */
export async function verifyTotp(
  secret: string,
  code: string,
  options: VerifyTotpOptions,
): Promise<number | undefined> {
  const p = params(options)
  const window = options.window ?? 1
  if (!Number.isInteger(window) || window < 0 || window > 10)
    throw new AuthkestraError('config_invalid', 'TOTP "window" must be an integer from 0 to 10')
  const key = secretBytes(secret)
  const typed = code.replace(/\s/g, '')
  const wellFormed = typed.length === p.digits && /^\d+$/.test(typed)
  const backend = options.crypto ?? defaultCrypto
  const current = totpStep(options.now, p.period)
  const given = encoder.encode(wellFormed ? typed : '0'.repeat(p.digits))
  let matched: number | undefined
  for (let step = current - window; step <= current + window; step++) {
    if (step < 0) continue
    const expected = encoder.encode(await hotp(key, step, { ...p, crypto: backend }))
    const same = backend.timingSafeEqual(expected, given)
    if (same && matched === undefined) matched = step
  }
  if (!wellFormed || matched === undefined) return undefined
  if (options.lastStep !== undefined && matched <= options.lastStep) return undefined
  return matched
}

/** What an `otpauth://` URI names (Key Uri Format). */
export interface TotpUriOptions extends TotpParams {
  readonly secret: string
  /** The service, shown by the app (e.g. `'Acme'`). */
  readonly issuer: string
  /** The account at the service (e.g. the username or email). */
  readonly account: string
}

/**
 * The `otpauth://totp/…` URI an authenticator app scans.
 *
 * @example
 * ```ts
 * totpUri({ secret, issuer: 'Acme', account: 'alice@example.com' })
 * // 'otpauth://totp/Acme:alice%40example.com?secret=…&issuer=Acme&algorithm=SHA1&digits=6&period=30'
 * ```
 */
export function totpUri(options: TotpUriOptions): string {
  const p = params(options)
  secretBytes(options.secret)
  if (options.issuer.includes(':') || options.account.includes(':'))
    throw new AuthkestraError('config_invalid', 'TOTP issuer and account must not contain ":"')
  const label = `${encodeURIComponent(options.issuer)}:${encodeURIComponent(options.account)}`
  const query = new URLSearchParams({
    secret: options.secret.replace(/[\s=-]/g, '').toUpperCase(),
    issuer: options.issuer,
    algorithm: p.algorithm.replace('-', ''),
    digits: String(p.digits),
    period: String(p.period),
  })
  return `otpauth://totp/${label}?${query.toString().replace(/\+/g, '%20')}`
}

/**
 * The URI as an SVG QR code (a string of markup; embed it in a page as is).
 *
 * @example
 * ```ts
 * const svg = totpQrSvg(totpUri({ secret, issuer: 'Acme', account: 'alice' }))
 * ```
 */
export function totpQrSvg(uri: string): string {
  return renderSVG(uri, { ecc: 'M', border: 2 })
}
