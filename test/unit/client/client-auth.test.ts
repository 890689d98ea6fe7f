import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { applyClientAuth } from '../../../src/client/client-auth.ts'
import { resolveHttpOptions } from '../../../src/client/http.ts'
import { revokeToken } from '../../../src/client/revocation.ts'
import { code } from '../../helpers/assert-code.ts'
import { FAKE_PROVIDER, login, setup } from '../../helpers/flow-setup.ts'

function decodeBasic(header: string): [string, string] {
  const [id = '', secret = ''] = atob(header.slice(6)).split(':')
  const dec = (v: string) => decodeURIComponent(v.replace(/\+/g, ' '))
  return [dec(id), dec(secret)]
}

describe('client authentication (RFC 6749 §2.3.1)', () => {
  it('form-encodes id and secret before base64 for Basic', async () => {
    for (const [id, secret] of [
      ['client:with:colons', 'p@ss word+%/~é'],
      ['plain', 'secret'],
      ['ünïcode', ':'],
    ] as const) {
      const headers: Record<string, string> = {}
      const body = new URLSearchParams()
      await applyClientAuth(
        { clientId: id, clientSecret: secret, method: 'client_secret_basic' },
        body,
        headers,
      )
      assert.deepEqual(decodeBasic(headers.authorization ?? ''), [id, secret])
      assert.equal(body.toString(), '')
    }
  })

  it('puts credentials in the body for client_secret_post and only the id for none', async () => {
    const headers: Record<string, string> = {}
    const post = new URLSearchParams()
    await applyClientAuth(
      { clientId: 'c', clientSecret: 's', method: 'client_secret_post' },
      post,
      headers,
    )
    assert.equal(post.toString(), 'client_id=c&client_secret=s')
    const none = new URLSearchParams()
    await applyClientAuth({ clientId: 'c', method: 'none' }, none, headers)
    assert.equal(none.toString(), 'client_id=c')
    assert.equal(headers.authorization, undefined)
  })

  it('switches to client_secret_post when discovery does not list Basic', async () => {
    const { op, flow } = await setup({
      discovery: (d) => ({ ...d, token_endpoint_auth_methods_supported: ['client_secret_post'] }),
    })
    assert.equal((await flow.provider()).clientAuthMethod, 'client_secret_post')
    await login(op, flow)
    const token = op.requests.find((r) => r.url.endsWith('/token'))
    assert.equal(token?.headers.get('authorization'), null)
    assert.equal(new URLSearchParams(await token?.text()).get('client_id'), FAKE_PROVIDER.clientId)
  })
})

describe('revocation errors (RFC 7009 §2.2.1)', () => {
  const deps = (response: Response) => ({
    client: { clientId: 'c', clientSecret: 's', method: 'client_secret_basic' as const },
    http: resolveHttpOptions({ fetch: (async () => response) as typeof fetch }),
  })
  const endpoint = new URL('https://op.example/revoke')

  it('maps unsupported_token_type to token_error', async () => {
    await assert.rejects(
      revokeToken(
        endpoint,
        't',
        'access_token',
        deps(new Response('{"error":"unsupported_token_type"}', { status: 400 })),
      ),
      code('token_error', 'unsupported_token_type'),
    )
  })

  it('maps a 503 without an error body to provider_bad_response with the status', async () => {
    await assert.rejects(
      revokeToken(endpoint, 't', undefined, deps(new Response('busy', { status: 503 }))),
      code('provider_bad_response', undefined, (err) => assert.equal(err.status, 503)),
    )
  })
})

describe('ID token and callback edge cases', () => {
  it('accepts aud as a one-element array without azp', async () => {
    const { op, flow } = await setup({
      idTokenClaims: (c) => ({ ...c, aud: [FAKE_PROVIDER.clientId] }),
    })
    await login(op, flow)
  })

  it('ignores a callback iss when the provider has no issuer (plain OAuth 2.0)', async () => {
    const { op, flow } = await setup(
      {},
      {
        issuer: undefined,
        authorizationEndpoint: 'https://op.example/authorize',
        tokenEndpoint: 'https://op.example/token',
        userinfoEndpoint: 'https://op.example/userinfo',
        scopes: ['profile'],
      },
    )
    const { url, flowState } = await flow.initiateLogin()
    const callback = await op.authorize(url)
    callback.searchParams.set('iss', 'https://whatever.example')
    const { identity } = await flow.finalizeLogin(callback, flowState)
    assert.equal(identity.issuer, null)
  })
})
