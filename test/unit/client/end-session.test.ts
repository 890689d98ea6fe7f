import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { endSessionUrl } from '../../../src/client/end-session.ts'

describe('endSessionUrl (RP-Initiated Logout 1.0 §2)', () => {
  it('keeps the endpoint’s own query and sets each parameter once', () => {
    const url = endSessionUrl(new URL('https://id.example/logout?tenant=a&state=old'), {
      clientId: 'web',
      postLogoutRedirectUri: 'https://app.example/auth/logout-callback/id?x=1',
      state: 's',
      idTokenHint: 'h.p.s',
    })
    assert.equal(url.origin + url.pathname, 'https://id.example/logout')
    assert.equal(url.searchParams.get('tenant'), 'a')
    assert.deepEqual(url.searchParams.getAll('state'), ['s'])
    assert.equal(url.searchParams.get('client_id'), 'web')
    assert.equal(
      url.searchParams.get('post_logout_redirect_uri'),
      'https://app.example/auth/logout-callback/id?x=1',
    )
    assert.equal(url.searchParams.get('id_token_hint'), 'h.p.s')
  })

  it('leaves id_token_hint out when there is none', () => {
    const url = endSessionUrl(new URL('https://id.example/logout'), {
      clientId: 'web',
      postLogoutRedirectUri: 'https://app.example/cb',
      state: 's',
    })
    assert.equal(url.searchParams.has('id_token_hint'), false)
  })
})
