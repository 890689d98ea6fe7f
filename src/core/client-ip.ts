/**
 * The client's IP address behind trusted reverse proxies. The socket's peer address is the
 * starting point; `X-Forwarded-For` is read only while the hop that sent it is trusted, from the
 * right (the entry the nearest proxy appended) to the left, and the first untrusted address is
 * the client. An `X-Forwarded-For` from an untrusted peer is ignored, so a client cannot choose
 * the address it is limited under. (The RFC 7239 `Forwarded` header is not read.)
 *
 * Trusted proxies are addresses or CIDR ranges (`10.0.0.0/8`, `2001:db8::/32`) or the names
 * `loopback`, `private` (RFC 1918, RFC 4193) and `linklocal`.
 *
 * @module
 */
import { AuthkestraError } from './errors.ts'

/** An address as 4 (IPv4) or 16 (IPv6) bytes. */
type Bytes = readonly number[]

const NAMED: Readonly<Record<string, readonly string[]>> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  private: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
}

function parseIpv4(text: string): Bytes | undefined {
  const parts = text.split('.')
  if (parts.length !== 4) return undefined
  const bytes: number[] = []
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || (part.length > 1 && part.startsWith('0'))) return undefined
    const n = Number(part)
    if (n > 255) return undefined
    bytes.push(n)
  }
  return bytes
}

function parseIpv6(text: string): Bytes | undefined {
  const halves = text.split('::')
  if (halves.length > 2) return undefined
  const groups = (half: string): number[] | undefined => {
    if (half === '') return []
    const out: number[] = []
    const pieces = half.split(':')
    for (const [i, piece] of pieces.entries()) {
      if (i === pieces.length - 1 && piece.includes('.')) {
        const v4 = parseIpv4(piece)
        if (!v4) return undefined
        out.push(
          ((v4[0] as number) << 8) | (v4[1] as number),
          ((v4[2] as number) << 8) | (v4[3] as number),
        )
      } else if (/^[0-9a-fA-F]{1,4}$/.test(piece)) out.push(Number.parseInt(piece, 16))
      else return undefined
    }
    return out
  }
  const head = groups(halves[0] as string)
  const tail = halves.length === 2 ? groups(halves[1] as string) : []
  if (!head || !tail) return undefined
  const missing = 8 - head.length - tail.length
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined
  const all = [...head, ...new Array<number>(missing).fill(0), ...tail]
  return all.flatMap((g) => [g >> 8, g & 0xff])
}

/** The bytes of an address (IPv4-mapped IPv6 as IPv4; zone and brackets dropped), or undefined. */
function parseIp(text: string): Bytes | undefined {
  let value = text.trim()
  if (value.startsWith('[') && value.endsWith(']')) value = value.slice(1, -1)
  const zone = value.indexOf('%')
  if (zone >= 0) value = value.slice(0, zone)
  if (value.length === 0 || value.length > 45) return undefined
  if (!value.includes(':')) return parseIpv4(value)
  const v6 = parseIpv6(value)
  if (!v6) return undefined
  const mapped = v6.slice(0, 10).every((b) => b === 0) && v6[10] === 0xff && v6[11] === 0xff
  return mapped ? v6.slice(12) : v6
}

function format(bytes: Bytes): string {
  if (bytes.length === 4) return bytes.join('.')
  const groups: string[] = []
  for (let i = 0; i < 16; i += 2)
    groups.push((((bytes[i] as number) << 8) | (bytes[i + 1] as number)).toString(16))
  return groups.join(':')
}

/** A CIDR range. */
interface Range {
  readonly bytes: Bytes
  readonly bits: number
}

function parseRange(text: string): Range | undefined {
  const slash = text.indexOf('/')
  const bytes = parseIp(slash < 0 ? text : text.slice(0, slash))
  if (!bytes) return undefined
  const max = bytes.length * 8
  // An IPv4-mapped range (::ffff:10.0.0.0/104) is the IPv4 range it maps.
  let bits = slash < 0 ? max : Number(text.slice(slash + 1))
  if (slash >= 0 && bytes.length === 4 && text.slice(0, slash).includes(':')) bits -= 96
  if (!Number.isInteger(bits) || bits < 0 || bits > max) return undefined
  return { bytes, bits }
}

function inRange(address: Bytes, range: Range): boolean {
  if (address.length !== range.bytes.length) return false
  for (let bit = 0; bit < range.bits; bit += 8) {
    const take = Math.min(8, range.bits - bit)
    const mask = (0xff << (8 - take)) & 0xff
    const i = bit / 8
    if (((address[i] as number) & mask) !== ((range.bytes[i] as number) & mask)) return false
  }
  return true
}

/** Finds a request's client address; see {@link createClientIpResolver}. */
export type ClientIpResolver = (
  remoteAddress: string | undefined,
  forwardedFor: string | null | undefined,
) => string | undefined

/**
 * A resolver of client addresses that trusts `X-Forwarded-For` only from `trustedProxies`.
 * Without trusted proxies it returns the peer address. The result is normalised (IPv4-mapped
 * IPv6 as IPv4, IPv6 in full lower-case groups); undefined when the peer is unknown (a fetch
 * runtime that gives no address).
 *
 * @example
 * ```ts
 * const clientIp = createClientIpResolver(['loopback', '10.0.0.0/8'])
 * clientIp('10.0.0.5', '198.51.100.7, 10.0.0.9') // '198.51.100.7'
 * clientIp('203.0.113.9', '198.51.100.7') // '203.0.113.9': that peer is not a proxy of ours
 * ```
 */
export function createClientIpResolver(trustedProxies: readonly string[] = []): ClientIpResolver {
  if (!Array.isArray(trustedProxies))
    throw new AuthkestraError(
      'config_invalid',
      '"trustedProxies" must list addresses or CIDR ranges',
    )
  const ranges: Range[] = []
  for (const entry of trustedProxies) {
    for (const text of NAMED[entry] ?? [entry]) {
      const range = parseRange(text)
      if (!range)
        throw new AuthkestraError(
          'config_invalid',
          `trustedProxies: "${entry.slice(0, 60)}" is not an IP address, a CIDR range, "loopback", "private" or "linklocal"`,
        )
      ranges.push(range)
    }
  }
  const trusted = (bytes: Bytes) => ranges.some((range) => inRange(bytes, range))
  return (remoteAddress, forwardedFor) => {
    let current = remoteAddress === undefined ? undefined : parseIp(remoteAddress)
    if (!current) return undefined
    if (ranges.length === 0 || !forwardedFor) return format(current)
    const hops = forwardedFor.split(',')
    // 32 hops at most: a header longer than any real proxy chain is not walked further.
    for (let i = hops.length - 1; i >= 0 && i >= hops.length - 32 && trusted(current); i--) {
      const next = parseIp(hops[i] as string)
      if (!next) break
      current = next
    }
    return format(current)
  }
}

/**
 * The part of an address a limit counts under: an IPv4 address whole, an IPv6 address by its
 * /64 prefix (one subscriber usually holds a whole /64).
 *
 * @example
 * ```ts
 * addressBucket('2001:db8:1:2:3:4:5:6') // '2001:db8:1:2::/64'
 * ```
 */
export function addressBucket(address: string): string {
  const bytes = parseIp(address)
  if (!bytes) return 'unknown'
  if (bytes.length === 4) return format(bytes)
  return `${format([...bytes.slice(0, 8), 0, 0, 0, 0, 0, 0, 0, 0])
    .split(':')
    .slice(0, 4)
    .join(':')}::/64`
}
