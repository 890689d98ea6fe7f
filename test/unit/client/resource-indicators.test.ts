// The client's resource indicators (RFC 8707), against our OP in-process: a login names
// `resource` (the provider's or the call's), the code exchange asks for the first, the token is
// the API's, userinfo is not called with it unless `fetchUserinfo: true`; refresh and client
// credentials take `resource`; `resource` is refused in extraParams and malformed values at once.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { decodeJwt } from 'jose'
import { OAuth2Flow } from '../../../src/client/oauth2-flow.ts'
import type { ProviderConfig } from '../../../src/client/provider-config.ts'
import { checkResources } from '../../../src/client/resource-indicators.ts'
import { createOp } from '../../../src/op/create-op.ts'

const ISSUER = 'http://127.0.0.1:9100'
const CB = 'http://127.0.0.1:3000/cb'
const API = 'https://api.example/'
const OTHER = 'https://other.example/'
const SECRET = 'client-secret-0123456789abcdefghijkl'

async function setup(patch: Partial<ProviderConfig> = {}) {
  const op = await createOp({
    issuer: ISSUER,
    logger: { warn() {}, error() {} },
    dangerouslyAutoLogin: 'alice',
    scopes: ['read'],
    resources: [{ resource: API, scopes: ['read'] }, { resource: OTHER }],
    clients: [
      {
        client_id: 'app',
        client_secret: SECRET,
        redirect_uris: [CB],
        grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
        scope: 'read',
        allowed_resources: [API, OTHER],
        skip_consent: true,
      },
    ],
    accounts: [{ username: 'alice', password: 'wonderland', claims: { name: 'Alice' } }],
  })
  const seen: URL[] = []
  const pushed: URLSearchParams[] = []
  const fetchOp = (async (input: string | URL | Request, init?: RequestInit) => {
    const request = new Request(input, init)
    seen.push(new URL(request.url))
    if (request.url.endsWith('/par')) pushed.push(new URLSearchParams(await request.clone().text()))
    return op.handler(request)
  }) as typeof fetch
  const flow = new OAuth2Flow(
    {
      id: 'op',
      issuer: ISSUER,
      clientId: 'app',
      clientSecret: SECRET,
      redirectUri: CB,
      scopes: ['openid', 'offline_access', 'read'],
      ...patch,
    },
    { fetch: fetchOp },
  )
  const login = async (options: Parameters<OAuth2Flow['initiateLogin']>[0] = {}) => {
    const start = await flow.initiateLogin(options)
    const response = await op.handler(new Request(start.url))
    const location = response.headers.get('location')
    assert.ok(location, `no redirect (${response.status})`)
    return { start, ...(await flow.finalizeLogin(location, start.flowState)) }
  }
  return { op, flow, login, seen, pushed, fetchOp }
}

const userinfoCalls = (seen: URL[]) => seen.filter((u) => u.pathname === '/userinfo').length

describe('client resource indicators (RFC 8707)', () => {
  it('a login for the provider resource: token for the API, no userinfo call', async () => {
    const { login, seen } = await setup({ resource: API })
    const { tokens, identity, start } = await login()
    assert.deepEqual(start.flowState.resources, [API])
    const claims = decodeJwt(tokens.accessToken)
    assert.equal(claims.aud, API)
    assert.equal(claims.scope, 'read')
    assert.equal(identity.subject.length > 0, true, 'the identity comes from the ID token')
    assert.equal(userinfoCalls(seen), 0)
  })

  it('initiateLogin({ resource }) overrides; several are sent, the first is asked for', async () => {
    const { flow, login, pushed } = await setup({ resource: API })
    await flow.initiateLogin({ resource: [OTHER, API] })
    assert.deepEqual(pushed[0]?.getAll('resource'), [OTHER, API], 'pushed (PAR), repeated')
    const { flow: direct } = await setup({ resource: API, par: false })
    const start = await direct.initiateLogin()
    assert.deepEqual(start.url.searchParams.getAll('resource'), [API], 'in the URL without PAR')
    const { tokens } = await login({ resource: [OTHER, API] })
    assert.equal(decodeJwt(tokens.accessToken).aud, OTHER)
    // refresh for the other authorized resource
    const refreshed = await flow.refresh(tokens, { resource: API })
    assert.equal(decodeJwt(refreshed.accessToken).aud, API)
  })

  it('fetchUserinfo: true still reads userinfo (and our OP refuses the API token)', async () => {
    const { login, seen } = await setup({ resource: API, fetchUserinfo: true })
    await assert.rejects(login(), { code: 'provider_bad_response' })
    assert.equal(userinfoCalls(seen), 1)
  })

  it('without resource nothing changes: the OP token, userinfo read', async () => {
    const { login, seen } = await setup()
    const { tokens } = await login()
    assert.equal(decodeJwt(tokens.accessToken).aud, ISSUER)
    assert.equal(userinfoCalls(seen), 1)
  })

  it('clientCredentials({ resource })', async () => {
    const { flow } = await setup()
    const tokens = await flow.clientCredentials({ resource: OTHER })
    assert.equal(decodeJwt(tokens.accessToken).aud, OTHER)
    await assert.rejects(flow.clientCredentials({ resource: 'https://nope.example/' }), {
      code: 'token_error',
    })
  })

  it('refuses resource in extraParams and malformed values before any request', async () => {
    const { flow, seen } = await setup()
    await assert.rejects(flow.initiateLogin({ extraParams: { resource: API } }), {
      code: 'config_invalid',
    })
    for (const bad of ['/api', `${API}#x`, '', [], 'api.example'])
      await assert.rejects(
        flow.initiateLogin({ resource: bad as string }),
        { code: 'config_invalid' },
        String(bad),
      )
    await assert.rejects(flow.refresh('rt', { resource: 'relative' }), { code: 'config_invalid' })
    assert.equal(seen.filter((u) => u.pathname !== '/.well-known/openid-configuration').length, 0)
    assert.throws(() => new OAuth2Flow({ id: 'x', issuer: ISSUER, clientId: 'c', resource: '#' }), {
      code: 'config_invalid',
    })
    assert.deepEqual(checkResources([API, API], 'resource'), [API])
    assert.throws(() => checkResources(Array(11).fill(API), 'resource'), /1 to 10/)
  })
})
