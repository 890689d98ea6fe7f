// The Basic guard (RFC 7617): parsing as a table (base64, UTF-8, first colon, control
// characters), the exact challenge with charset, what verify receives, configuration mistakes.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { basic } from '../../../src/index.ts'
import { code } from '../../helpers/assert-code.ts'
import { assertRefusal, principal, request } from './helpers.ts'

const CHALLENGE = 'Basic realm="admin area", charset="UTF-8"'
const utf8Base64 = (s: string) => Buffer.from(s, 'utf8').toString('base64')

function recordingGuard() {
  const seen: [string, string][] = []
  const guard = basic({
    realm: 'admin area',
    verify: async (username, password) => {
      seen.push([username, password])
      return username === 'zoë' && password === 'pa:ss wörd' ? { name: username } : null
    },
  })
  return { guard, seen }
}

describe('basic guard', () => {
  const rows: {
    name: string
    authorization?: string
    error: string
    /** What verify must have been called with, if at all. */
    verified?: [string, string]
  }[] = [
    { name: 'no Authorization header', error: 'unauthorized' },
    { name: 'a Bearer token', authorization: 'Bearer abc.def.ghi', error: 'unauthorized' },
    { name: 'the scheme alone', authorization: 'Basic', error: 'invalid_request' },
    { name: 'not base64', authorization: 'Basic ***', error: 'invalid_request' },
    {
      name: 'short credentials that need no padding',
      authorization: 'Basic YTpi',
      error: 'invalid_credentials',
      verified: ['a', 'b'],
    },
    {
      name: 'unpadded base64 of odd length',
      authorization: 'Basic YTpiYw',
      error: 'invalid_request',
    },
    {
      name: 'base64url instead of base64',
      authorization: 'Basic YTo_Pz8_',
      error: 'invalid_request',
    },
    {
      name: 'bytes that are not UTF-8',
      authorization: `Basic ${Buffer.from([0x61, 0x3a, 0xff, 0xfe]).toString('base64')}`,
      error: 'invalid_request',
    },
    { name: 'no colon', authorization: `Basic ${utf8Base64('zoë')}`, error: 'invalid_request' },
    {
      name: 'a control character in the password',
      authorization: `Basic ${utf8Base64('zoë:pa\nss')}`,
      error: 'invalid_request',
    },
    {
      name: 'a NUL in the user-id',
      authorization: `Basic ${utf8Base64('zo\u0000ë:x')}`,
      error: 'invalid_request',
    },
    {
      name: 'credentials over 4 KiB',
      authorization: `Basic ${utf8Base64(`zoë:${'p'.repeat(4000)}`)}`,
      error: 'invalid_request',
    },
    {
      name: 'a wrong password',
      authorization: `Basic ${utf8Base64('zoë:wrong')}`,
      error: 'invalid_credentials',
      verified: ['zoë', 'wrong'],
    },
    {
      name: 'an empty user-id and password',
      authorization: `Basic ${utf8Base64(':')}`,
      error: 'invalid_credentials',
      verified: ['', ''],
    },
    {
      name: 'Latin-1 bytes for a UTF-8 realm',
      authorization: `Basic ${Buffer.from('zoë:pa:ss wörd', 'latin1').toString('base64')}`,
      error: 'invalid_request',
    },
  ]
  for (const row of rows) {
    it(`refuses ${row.name}: 401 ${row.error}`, async () => {
      const { guard, seen } = recordingGuard()
      const headers: Record<string, string> =
        row.authorization === undefined ? {} : { authorization: row.authorization }
      await assertRefusal(await guard(request(headers)), {
        status: 401,
        challenge: CHALLENGE,
        error: row.error,
        secret: row.verified?.[1] ?? 'pa:ss wörd',
      })
      assert.deepEqual(seen, row.verified ? [row.verified] : [])
    })
  }

  for (const [name, authorization] of [
    ['UTF-8 credentials', `Basic ${utf8Base64('zoë:pa:ss wörd')}`],
    ['a lowercase scheme', `basic ${utf8Base64('zoë:pa:ss wörd')}`],
    ['several spaces after the scheme', `BASIC   ${utf8Base64('zoë:pa:ss wörd')}`],
  ] as const) {
    it(`accepts ${name}, split at the first colon`, async () => {
      const { guard, seen } = recordingGuard()
      assert.deepEqual(principal(await guard(request({ authorization }))), { name: 'zoë' })
      assert.deepEqual(seen, [['zoë', 'pa:ss wörd']])
    })
  }

  it('lets an error of verify propagate', async () => {
    const guard = basic({
      realm: 'x',
      verify: async () => {
        throw new Error('user store down')
      },
    })
    await assert.rejects(guard(request({ authorization: `Basic ${utf8Base64('a:b')}` })), /down/)
  })

  for (const [name, options] of [
    ['no realm', { verify: async () => null }],
    ['an empty realm', { realm: '', verify: async () => null }],
    ['a realm with a quote', { realm: 'a"b', verify: async () => null }],
    ['a realm with a backslash', { realm: 'a\\b', verify: async () => null }],
    ['a realm with a newline', { realm: 'a\nb', verify: async () => null }],
    ['no verify', { realm: 'admin' }],
  ] as const) {
    it(`throws config_invalid for ${name}`, () => {
      assert.throws(() => basic(options as never), code('config_invalid'))
    })
  }
})
