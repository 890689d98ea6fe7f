// The crypto seam: is the node:crypto fast path worth having? (DESIGN.md: only where it
// measurably wins.) And what does PKCE cost against a raw node:crypto reference?

import * as nodeCryptoModule from 'node:crypto'
import { createHash, randomBytes } from 'node:crypto'
import * as oauth from 'oauth4webapi'
import { createNodeCrypto } from '../src/core/crypto/node.ts'
import { webCrypto } from '../src/core/crypto/web.ts'
import { Pkce } from '../src/core/pkce.ts'
import { type Comparison, compare } from './lib.ts'

const nodeCrypto = createNodeCrypto(nodeCryptoModule)

export async function cryptoBenchmarks(): Promise<Comparison[]> {
  const key = webCrypto.randomBytes(32)
  const msg = webCrypto.randomBytes(64)
  const a = webCrypto.randomBytes(32)
  const b = a.slice()
  const verifier = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'
  const rows: Comparison[] = []
  rows.push(
    await compare(
      'sha256 (43 B)',
      ['web', () => webCrypto.sha256(verifier)],
      ['node', () => nodeCrypto.sha256(verifier)],
    ),
  )
  rows.push(
    await compare(
      'hmac-sha256 (64 B)',
      ['web', () => webCrypto.hmacSha256(key, msg)],
      ['node', () => nodeCrypto.hmacSha256(key, msg)],
    ),
  )
  rows.push(
    await compare(
      'hkdf (32 B out)',
      ['web', () => webCrypto.hkdf(key, 'salt', 'info', 32)],
      ['node', () => nodeCrypto.hkdf(key, 'salt', 'info', 32)],
    ),
  )
  rows.push(
    await compare(
      'randomBytes (32 B)',
      ['web', () => webCrypto.randomBytes(32)],
      ['node', () => nodeCrypto.randomBytes(32)],
    ),
  )
  rows.push(
    await compare(
      'timingSafeEqual (32 B)',
      ['web', () => webCrypto.timingSafeEqual(a, b)],
      ['node', () => nodeCrypto.timingSafeEqual(a, b)],
    ),
  )
  rows.push(
    await compare(
      'PKCE pair generation',
      [
        'raw node:crypto',
        () => {
          const v = randomBytes(32).toString('base64url')
          return createHash('sha256').update(v).digest('base64url')
        },
      ],
      ['Pkce.generate()', () => Pkce.generate()],
      { target: '>= 0.8x' },
    ),
  )
  rows.push(
    await compare(
      'PKCE pair generation vs oauth4webapi',
      [
        'oauth4webapi 3',
        async () => {
          const verifier = oauth.generateRandomCodeVerifier()
          return oauth.calculatePKCECodeChallenge(verifier)
        },
      ],
      ['Pkce.generate()', () => Pkce.generate()],
    ),
  )
  rows.push(
    await compare(
      'PKCE pair generation (Web Crypto path)',
      ['Pkce.generate() node', () => Pkce.generate()],
      ['Pkce.generate() web', () => Pkce.generate({ crypto: webCrypto })],
    ),
  )
  return rows
}
