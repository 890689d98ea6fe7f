import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { cookiePairs, readCookie } from '../../../src/core/cookies.ts'

const withCookie = (cookie: string) => new Request('https://app.example/', { headers: { cookie } })

describe('cookies', () => {
  it('reads a cookie present once; a duplicated name is absent', () => {
    assert.equal(readCookie(withCookie('a=1; b=2'), 'b'), '2')
    assert.equal(readCookie(withCookie('a=1; a=2'), 'a'), undefined)
    assert.deepEqual(cookiePairs(withCookie(' a=1;\tb = 2 ;c')), [
      ['a', '1'],
      ['b', '2'],
    ])
  })

  it('trims only spaces and tabs: a name behind U+00A0 is not the __Host- cookie', () => {
    const planted = withCookie('\u00a0__Host-ak_session=attacker; x=1')
    assert.equal(readCookie(planted, '__Host-ak_session'), undefined)
    assert.equal(cookiePairs(planted)[0]?.[0], '\u00a0__Host-ak_session')
  })
})
