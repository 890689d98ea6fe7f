// The client-IP resolver (src/core/client-ip.ts): X-Forwarded-For believed only from trusted
// proxies, right to left; addresses normalised; hostile headers (garbage, huge, spoofed entries)
// never choose the address; IPv6 counted per /64.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { addressBucket, createClientIpResolver } from '../../../src/core/client-ip.ts'

describe('createClientIpResolver', () => {
  it('without trusted proxies returns the peer, whatever X-Forwarded-For says', () => {
    const resolve = createClientIpResolver()
    assert.equal(resolve('203.0.113.9', '198.51.100.7'), '203.0.113.9')
    assert.equal(resolve('::ffff:203.0.113.9', null), '203.0.113.9')
    assert.equal(resolve(undefined, '198.51.100.7'), undefined)
    assert.equal(resolve('not an address', null), undefined)
  })

  it('walks X-Forwarded-For from the right while the hop is trusted', () => {
    const resolve = createClientIpResolver(['loopback', '10.0.0.0/8'])
    assert.equal(resolve('10.0.0.5', '198.51.100.7, 10.0.0.9'), '198.51.100.7')
    assert.equal(
      resolve('127.0.0.1', '6.6.6.6, 198.51.100.7'),
      '198.51.100.7',
      'a spoofed left entry is not reached',
    )
    assert.equal(
      resolve('203.0.113.9', '198.51.100.7'),
      '203.0.113.9',
      'an untrusted peer is the client',
    )
    assert.equal(resolve('10.0.0.5', '10.0.0.6,10.0.0.7'), '10.0.0.6', 'all trusted: the leftmost')
    assert.equal(resolve('10.0.0.5', ''), '10.0.0.5')
    assert.equal(resolve('10.0.0.5', 'garbage, 10.0.0.7'), '10.0.0.7', 'stops at a malformed entry')
    assert.equal(resolve('::1', '[2001:db8::1]'), '2001:db8:0:0:0:0:0:1')
    assert.equal(resolve('::1', 'fe80::1%eth0'), 'fe80:0:0:0:0:0:0:1')
  })

  it('walks at most 32 hops of a huge header', () => {
    const resolve = createClientIpResolver(['10.0.0.0/8'])
    const hops = Array.from({ length: 5000 }, (_, i) => `10.0.${(i >> 8) & 255}.${i & 255}`)
    assert.equal(resolve('10.0.0.1', ['198.51.100.7', ...hops].join(',')), hops[5000 - 32])
  })

  it('reads named ranges and CIDRs, including IPv4-mapped IPv6 ones', () => {
    const resolve = createClientIpResolver([
      'private',
      'linklocal',
      '2001:db8::/32',
      '::ffff:192.0.2.0/120',
    ])
    for (const proxy of [
      '10.1.2.3',
      '172.31.0.1',
      '192.168.1.1',
      'fd00::1',
      '169.254.0.9',
      '2001:db8:ffff::1',
      '192.0.2.77',
    ])
      assert.equal(resolve(proxy, '198.51.100.7'), '198.51.100.7', proxy)
    for (const peer of ['172.32.0.1', '2001:db9::1', '192.0.3.1', '11.0.0.1'])
      assert.notEqual(resolve(peer, '198.51.100.7'), '198.51.100.7', peer)
  })

  it('refuses a trusted proxy that is not an address, a CIDR or a known name', () => {
    for (const bad of [
      '10.0.0.0/33',
      '300.0.0.1',
      'loopbak',
      '::1/129',
      '1.2.3',
      '01.2.3.4',
      'a::b::c',
    ])
      assert.throws(() => createClientIpResolver([bad]), /trustedProxies/, bad)
  })
})

describe('addressBucket', () => {
  it('keeps IPv4 whole and cuts IPv6 to its /64', () => {
    assert.equal(addressBucket('198.51.100.7'), '198.51.100.7')
    assert.equal(addressBucket('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2::/64')
    assert.equal(addressBucket('2001:db8:1:2::ffff'), '2001:db8:1:2::/64')
    assert.equal(addressBucket('::ffff:198.51.100.7'), '198.51.100.7')
    assert.equal(addressBucket('nonsense'), 'unknown')
  })
})
