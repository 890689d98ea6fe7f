// src/op/resources.ts: the configured resources (RFC 8707) are checked at createOp, and the rules
// that every endpoint shares (what a `resource` value may be, which a client may name, what a
// token for one carries).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createOp } from '../../../src/op/create-op.ts'
import { Params } from '../../../src/op/http/params.ts'
import {
  checkAllowedResources,
  isResourceIndicator,
  type OpResource,
  requestedResources,
  resolveResources,
  scopesForResource,
} from '../../../src/op/resources.ts'

const ISSUER = 'http://127.0.0.1:9000'
const API = 'https://api.example/v1'

const problemCode = (fn: () => unknown) => {
  try {
    fn()
  } catch (err) {
    return (err as { error?: string }).error
  }
  return 'no error'
}

describe('op resources (RFC 8707)', () => {
  it('recognizes absolute URIs without fragment only', () => {
    for (const good of [
      API,
      'urn:example:api',
      'https://api.example',
      'http://localhost:3000/x?y=1',
    ])
      assert.equal(isResourceIndicator(good), true, good)
    for (const bad of [
      '',
      '/api',
      'api.example',
      'https://api.example/#x',
      '#',
      'https://a/#',
      `https://a/${'x'.repeat(2050)}`,
      '1http://a',
      'http://[bad',
    ])
      assert.equal(isResourceIndicator(bad), false, bad)
  })

  it('resolves the configured list, naming what is wrong', () => {
    const ok = resolveResources(
      [{ resource: API, scopes: ['read'], accessTokenTtl: 60 }],
      600,
      ISSUER,
    )
    assert.equal(ok.get(API)?.accessTokenTtl, 60)
    assert.deepEqual([...(ok.get(API)?.scopes ?? [])], ['read'])
    assert.equal(resolveResources([{ resource: API }], 300, ISSUER).get(API)?.accessTokenTtl, 300)
    const bad: [OpResource[], RegExp][] = [
      [[{ resource: '/relative' }], /resources\[0\]\.resource" must be an absolute URI/],
      [[{ resource: `${API}#frag` }], /resources\[0\]\.resource" must be an absolute URI/],
      [[{ resource: API }, { resource: API }], /resources\[1\]\.resource" is a duplicate/],
      [[{ resource: ISSUER }], /own access-token audience/],
      [[{ resource: API, scopes: ['bad scope'] }], /resources\[0\]\.scopes"/],
      [
        [{ resource: API, accessTokenTtl: 601 }],
        /accessTokenTtl" must be a positive integer of at most/,
      ],
      [[{ resource: API, accessTokenTtl: 0 }], /accessTokenTtl"/],
      [[{ resource: 42 as unknown as string }], /resources\[0\]\.resource"/],
    ]
    for (const [list, message] of bad)
      assert.throws(() => resolveResources(list, 600, ISSUER), message, JSON.stringify(list))
  })

  it('createOp refuses bad resources and allowed_resources not configured', async () => {
    const base = { issuer: ISSUER, logger: { warn() {}, error() {} } }
    await assert.rejects(createOp({ ...base, resources: [{ resource: 'api' }] }), /absolute URI/)
    await assert.rejects(
      createOp({
        ...base,
        resources: [{ resource: API }],
        clients: [
          {
            client_id: 'c',
            client_secret: 's'.repeat(32),
            redirect_uris: ['https://a/cb'],
            allowed_resources: ['https://other.example'],
          },
        ],
      }),
      /clients\[0\]\.allowed_resources\[0\]" is not one of the OP's "resources"/,
    )
  })

  it('checks allowed_resources values', () => {
    const resources = resolveResources([{ resource: API }], 600, ISSUER)
    assert.equal(checkAllowedResources(undefined, 'c', resources), undefined)
    assert.deepEqual(checkAllowedResources([API, API], 'c', resources), [API])
    assert.throws(() => checkAllowedResources(API, 'c', resources), /must be an array/)
  })

  it('reads the repeated resource parameter and refuses with invalid_target', () => {
    const resources = resolveResources([{ resource: API }, { resource: 'urn:b' }], 600, ISSUER)
    const client = { allowedResources: [API] }
    const params = (q: string) => new Params(new URLSearchParams(q))
    assert.deepEqual(requestedResources(params(''), client, resources), [])
    assert.deepEqual(
      requestedResources(params(`resource=${API}&resource=${API}`), client, resources),
      [API],
    )
    for (const q of ['resource=urn:b', 'resource=urn:c', 'resource=%2Fx', `resource=${API}%23f`])
      assert.equal(
        problemCode(() => requestedResources(params(q), client, resources)),
        'invalid_target',
        q,
      )
    assert.equal(
      problemCode(() => requestedResources(params('resource=urn:b'), {}, resources)),
      'invalid_target',
      'no allowed_resources: none allowed',
    )
  })

  it('narrows scopes to those the resource accepts, never OIDC ones', () => {
    const [open, strict] = [
      ...resolveResources(
        [{ resource: API }, { resource: 'urn:b', scopes: ['read'] }],
        600,
        ISSUER,
      ).values(),
    ]
    assert.ok(open && strict)
    assert.deepEqual(scopesForResource(['openid', 'profile', 'read', 'write'], open), [
      'read',
      'write',
    ])
    assert.deepEqual(scopesForResource(['openid', 'read', 'write'], strict), ['read'])
  })
})
