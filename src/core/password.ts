/**
 * Password hashing for accounts an app or the embedded OP keeps itself. scrypt (RFC 7914) where
 * the runtime has it, at OWASP's N=2^15, r=8, p=3 (32 MiB, run off the event loop); PBKDF2-SHA-256
 * at 600 000 iterations on runtimes with Web Crypto only. Hashes are PHC strings that name their
 * algorithm and cost, so either verifies wherever it is supported and costs can rise later.
 *
 * @module
 */
import { decodeBase64url, encodeBase64url } from './base64url.ts'
import { type CryptoBackend, defaultCrypto } from './crypto/index.ts'
import { AuthkestraError } from './errors.ts'

const SCRYPT = { N: 2 ** 15, r: 8, p: 3, length: 32 }
const PBKDF2_ITERATIONS = 600_000
const MAX_PASSWORD_BYTES = 1024
const encoder = new TextEncoder()

/**
 * A usable password: a non-empty string of at most 1 KiB without U+0000 (scrypt and PBKDF2 pad
 * the password with zero bytes, so "pw" and "pw\0" would hash alike).
 */
function usable(password: unknown): password is string {
  return (
    typeof password === 'string' &&
    password !== '' &&
    !password.includes('\u0000') &&
    encoder.encode(password).length <= MAX_PASSWORD_BYTES
  )
}

function checkPassword(password: unknown): asserts password is string {
  if (!usable(password)) {
    throw new AuthkestraError(
      'config_invalid',
      `"password" must be a non-empty string of at most ${MAX_PASSWORD_BYTES} bytes, without NUL`,
    )
  }
}

/**
 * Hashes a password into a PHC string (`$scrypt$ln=15,r=8,p=3$<salt>$<hash>`).
 *
 * @example
 * ```ts
 * const stored = await hashPassword('wonderland')
 * await verifyPassword('wonderland', stored) // true
 * ```
 */
export async function hashPassword(
  password: string,
  options: { crypto?: CryptoBackend } = {},
): Promise<string> {
  checkPassword(password)
  const backend = options.crypto ?? defaultCrypto
  const salt = backend.randomBytes(16)
  if (backend.scrypt) {
    const hash = await backend.scrypt(password, salt, SCRYPT)
    return `$scrypt$ln=${Math.log2(SCRYPT.N)},r=${SCRYPT.r},p=${SCRYPT.p}$${encodeBase64url(salt)}$${encodeBase64url(hash)}`
  }
  const hash = await backend.pbkdf2Sha256(password, salt, PBKDF2_ITERATIONS, 32)
  return `$pbkdf2-sha256$i=${PBKDF2_ITERATIONS}$${encodeBase64url(salt)}$${encodeBase64url(hash)}`
}

interface Parsed {
  alg: 'scrypt' | 'pbkdf2-sha256'
  params: Record<string, number>
  salt: Uint8Array
  hash: Uint8Array
}

function parse(stored: string): Parsed | undefined {
  const m =
    /^\$(scrypt|pbkdf2-sha256)\$([a-z]+=\d+(?:,[a-z]+=\d+)*)\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/.exec(
      stored,
    )
  if (!m) return undefined
  const params = Object.fromEntries(
    (m[2] as string).split(',').map((kv) => {
      const [k, v] = kv.split('=')
      return [k as string, Number(v)]
    }),
  )
  const salt = decodeBase64url(m[3] as string)
  const hash = decodeBase64url(m[4] as string)
  if (!salt || !hash || hash.length < 16) return undefined
  return { alg: m[1] as Parsed['alg'], params, salt, hash }
}

/**
 * Whether `password` matches a hash from {@link hashPassword}, compared in constant time. False
 * for a malformed hash; throws `unsupported_operation` for a scrypt hash on a runtime without
 * scrypt.
 *
 * @example
 * ```ts
 * if (!(await verifyPassword(input, account.passwordHash))) return fail()
 * ```
 */
export async function verifyPassword(
  password: string,
  stored: string,
  options: { crypto?: CryptoBackend } = {},
): Promise<boolean> {
  if (!usable(password)) return false
  const parsed = typeof stored === 'string' ? parse(stored) : undefined
  if (!parsed) return false
  const backend = options.crypto ?? defaultCrypto
  let computed: Uint8Array
  if (parsed.alg === 'scrypt') {
    const { ln, r, p } = parsed.params
    if (!backend.scrypt)
      throw new AuthkestraError(
        'unsupported_operation',
        'this runtime has no scrypt to verify the password hash',
      )
    if (!ln || !r || !p || ln > 20 || r > 32 || p > 16) return false
    computed = await backend.scrypt(password, parsed.salt, {
      N: 2 ** ln,
      r,
      p,
      length: parsed.hash.length,
    })
  } else {
    const { i } = parsed.params
    if (!i || i > 10_000_000) return false
    computed = await backend.pbkdf2Sha256(password, parsed.salt, i, parsed.hash.length)
  }
  return backend.timingSafeEqual(computed, parsed.hash)
}
