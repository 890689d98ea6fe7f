// Interop: openid-client v6 asks our dev IdP for acr_values (and an essential acr through the
// claims parameter) and reads acr and amr from the ID token it validates itself. Carol has a
// TOTP secret in the dev IdP's config file: her login passes the code page; Alice has no factor.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import * as client from 'openid-client'
import { totpCode } from '../../src/mfa/totp.ts'
import { CookieJar } from '../helpers/cookie-jar.ts'
import { actionOf, csrfOf } from '../op/helpers/browser.ts'
import { type InteropIdp, startInteropIdp } from './helpers/dev-idp.ts'

const REDIRECT_URI = 'https://rp.example/cb'
const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP'
const RP = { id: 'rp-mfa', secret: 'rp-mfa-secret-0123456789abcdefghijklmn' }

describe('interop: openid-client asks our OP for an acr', () => {
  let idp: InteropIdp
  let config: client.Configuration

  before(async () => {
    idp = await startInteropIdp(
      {
        clients: [
          {
            client_id: RP.id,
            client_secret: RP.secret,
            redirect_uris: [REDIRECT_URI],
            skip_consent: true,
          },
        ],
        users: [
          { username: 'carol', password: 'carol-pw', totp_secret: SECRET },
          { username: 'alice', password: 'wonderland' },
        ],
      },
      'authkestra-interop-mfa-',
    )
    config = await client.discovery(idp.issuer, RP.id, {}, client.ClientSecretBasic(RP.secret), {
      execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks],
    })
  })
  after(() => idp?.close())

  async function go(jar: CookieJar, url: string, init: RequestInit = {}) {
    const headers = new Headers(init.headers)
    const cookie = jar.header()
    if (cookie) headers.set('cookie', cookie)
    const response = await fetch(url, { ...init, headers, redirect: 'manual' })
    jar.store(response)
    return response
  }
  const post = (fields: Record<string, string>): RequestInit => ({
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields),
  })

  async function signIn(username: string, password: string, extra: Record<string, string>) {
    const verifier = client.randomPKCECodeVerifier()
    const nonce = client.randomNonce()
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid profile',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      nonce,
      ...extra,
    })
    const jar = new CookieJar()
    const start = await go(jar, url.href)
    const login = await (
      await go(jar, new URL(start.headers.get('location') ?? '', url).href)
    ).text()
    let response = await go(jar, actionOf(login), post({ username, password, csrf: csrfOf(login) }))
    if (response.status === 200) {
      const page = await response.text()
      assert.match(page, /Code from your authenticator app/)
      response = await go(
        jar,
        actionOf(page),
        post({ csrf: csrfOf(page), code: await totpCode(SECRET, Date.now()) }),
      )
    }
    const callback = new URL(response.headers.get('location') ?? '')
    if (callback.searchParams.has('error')) return { error: callback.searchParams.get('error') }
    const tokens = await client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: verifier,
      expectedNonce: nonce,
      idTokenExpected: true,
    })
    return { claims: tokens.claims() }
  }

  it('advertises acr_values_supported and the claims parameter', () => {
    const meta = config.serverMetadata()
    assert.deepEqual(meta.acr_values_supported, ['sfa', 'mfa', 'phr'])
    assert.equal(meta.claims_parameter_supported, true)
  })

  it('carol with TOTP: acr mfa and amr pwd+otp+mfa in the ID token openid-client validated', async () => {
    const { claims } = await signIn('carol', 'carol-pw', { acr_values: 'mfa' })
    assert.equal(claims?.acr, 'mfa')
    assert.deepEqual(claims?.amr, ['pwd', 'otp', 'mfa'])
  })

  it('alice without a factor: voluntary acr_values gives sfa; an essential mfa ends in unmet_authentication_requirements', async () => {
    const voluntary = await signIn('alice', 'wonderland', { acr_values: 'mfa sfa' })
    assert.equal(voluntary.claims?.acr, 'sfa')
    const essential = await signIn('alice', 'wonderland', {
      claims: JSON.stringify({ id_token: { acr: { essential: true, values: ['mfa'] } } }),
    })
    assert.equal(essential.error, 'unmet_authentication_requirements')
  })
})
