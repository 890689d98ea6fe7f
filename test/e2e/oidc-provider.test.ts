/**
 * End to end: our generic OIDC provider (`oidc()` + `OAuth2Flow`) logs in against a real,
 * independent OpenID Provider — `oidc-provider` v9 on loopback — with a confidential
 * (client_secret_basic) and a public (none) client. The provider requires PKCE for every client,
 * so it is the one checking our verifier, our client authentication, and the code's single use.
 */
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { decodeProtectedHeader } from 'jose'
import type { FlowState } from '../../src/client/flow-state.ts'
import { OAuth2Flow } from '../../src/client/oauth2-flow.ts'
import type { ProviderConfig } from '../../src/client/provider-config.ts'
import { AuthkestraError, type AuthkestraErrorCode } from '../../src/core/errors.ts'
import { Pkce } from '../../src/core/pkce.ts'
import { oidc } from '../../src/providers/oidc.ts'
import {
  DEFAULT_ACCOUNT,
  followToCallback,
  type RunningOidcProvider,
  startOidcProvider,
} from './helpers/oidc-provider-server.ts'

const CONFIDENTIAL = {
  clientId: 'rp-confidential',
  // Characters RFC 6749 §2.3.1 makes Basic form-encode: both sides must agree on them.
  clientSecret: `${randomBytes(32).toString('base64url')}:% +/&=`,
  redirectUri: 'https://rp.example.test/auth/callback/oidc',
} as const
const PUBLIC = {
  clientId: 'rp-public',
  redirectUri: 'http://127.0.0.1:5173/auth/callback/oidc',
} as const

/** Asserts that `promise` rejects with an AuthkestraError of `code` (and `oauthError`, description). */
async function rejectsWith(
  promise: Promise<unknown>,
  code: AuthkestraErrorCode,
  oauthError?: string,
  description?: RegExp,
): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof AuthkestraError, `expected an AuthkestraError, got ${String(err)}`)
    assert.equal(err.code, code, err.message)
    if (oauthError !== undefined) assert.equal(err.oauthError, oauthError)
    if (description !== undefined) assert.match(err.oauthErrorDescription ?? '', description)
    return true
  })
}

/** A copy of `callback` with one query parameter set (or removed, with `null`). */
function withParam(callback: URL, name: string, value: string | null): URL {
  const url = new URL(callback)
  if (value === null) url.searchParams.delete(name)
  else url.searchParams.set(name, value)
  return url
}

function s256(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url')
}

async function userinfoStatus(flow: OAuth2Flow, accessToken: string): Promise<number> {
  const endpoint = (await flow.provider()).userinfoEndpoint
  assert.ok(endpoint, 'discovery gave no userinfo endpoint')
  const response = await fetch(endpoint, { headers: { authorization: `Bearer ${accessToken}` } })
  await response.body?.cancel()
  return response.status
}

describe('e2e: oidc() + OAuth2Flow against oidc-provider v9', () => {
  let op: RunningOidcProvider

  before(async () => {
    op = await startOidcProvider({
      clients: [
        {
          client_id: CONFIDENTIAL.clientId,
          client_secret: CONFIDENTIAL.clientSecret,
          token_endpoint_auth_method: 'client_secret_basic',
          redirect_uris: [CONFIDENTIAL.redirectUri],
          id_token_signed_response_alg: 'ES256',
        },
        {
          client_id: PUBLIC.clientId,
          token_endpoint_auth_method: 'none',
          redirect_uris: [PUBLIC.redirectUri],
          // ID tokens default to RS256: both signing keys are exercised.
        },
      ],
    })
  })

  after(async () => {
    await op?.close()
  })

  const variants = [
    {
      label: 'confidential client (client_secret_basic)',
      redirectUri: CONFIDENTIAL.redirectUri,
      clientId: CONFIDENTIAL.clientId,
      authMethod: 'client_secret_basic',
      idTokenAlg: 'ES256',
      // oidc-provider's default policy rotates refresh tokens of public clients only.
      rotates: false,
      make: (extra: Partial<ProviderConfig> = {}) =>
        new OAuth2Flow({
          ...oidc({
            issuer: op.issuer,
            clientId: CONFIDENTIAL.clientId,
            clientSecret: CONFIDENTIAL.clientSecret,
            redirectUri: CONFIDENTIAL.redirectUri,
          }),
          ...extra,
        }),
    },
    {
      label: 'public client (none)',
      redirectUri: PUBLIC.redirectUri,
      clientId: PUBLIC.clientId,
      authMethod: 'none',
      idTokenAlg: 'RS256',
      rotates: true,
      make: (extra: Partial<ProviderConfig> = {}) =>
        new OAuth2Flow({
          ...oidc({
            issuer: op.issuer,
            clientId: PUBLIC.clientId,
            redirectUri: PUBLIC.redirectUri,
          }),
          ...extra,
        }),
    },
  ] as const

  for (const variant of variants) {
    describe(variant.label, () => {
      let flow: OAuth2Flow

      before(() => {
        flow = variant.make()
      })

      async function startLogin(): Promise<{ url: URL; flowState: FlowState; callback: URL }> {
        const { url, flowState } = await flow.initiateLogin()
        const callback = await followToCallback(url, variant.redirectUri)
        return { url, flowState, callback }
      }

      it('discovers the endpoints, the signing algorithms and the RFC 9207 promise', async () => {
        const response = await fetch(`${op.issuer}/.well-known/openid-configuration`)
        assert.equal(response.status, 200)
        const metadata = (await response.json()) as Record<string, unknown>
        assert.equal(metadata.authorization_response_iss_parameter_supported, true)

        const provider = await flow.provider()
        assert.equal(provider.issuer, op.issuer)
        assert.equal(provider.authorizationEndpoint.href, metadata.authorization_endpoint)
        assert.equal(provider.tokenEndpoint.href, metadata.token_endpoint)
        assert.equal(provider.userinfoEndpoint?.href, metadata.userinfo_endpoint)
        assert.equal(provider.revocationEndpoint?.href, metadata.revocation_endpoint)
        assert.equal(provider.jwksUri?.href, metadata.jwks_uri)
        assert.equal(provider.issRequired, true)
        assert.ok(provider.idTokenAlgorithms.includes(variant.idTokenAlg))
        assert.ok(!provider.idTokenAlgorithms.includes('none'))
        assert.equal(provider.clientAuthMethod, variant.authMethod)
      })

      it('pushes the request (PAR, which oidc-provider offers): the URL has client_id and request_uri only', async () => {
        const provider = await flow.provider()
        assert.equal(provider.parEndpoint?.href, `${op.issuer}/request`)
        const { url } = await flow.initiateLogin()
        assert.deepEqual([...url.searchParams.keys()].sort(), ['client_id', 'request_uri'])
        assert.equal(url.searchParams.get('client_id'), variant.clientId)
        assert.match(
          url.searchParams.get('request_uri') ?? '',
          /^urn:ietf:params:oauth:request_uri:/,
        )
      })

      it('sends an S256 challenge of the verifier it keeps (par: false, in the URL)', async () => {
        const { url, flowState } = await variant.make({ par: false }).initiateLogin()
        const params = url.searchParams
        assert.equal(
          `${url.origin}${url.pathname}`,
          (await flow.provider()).authorizationEndpoint.href,
        )
        assert.equal(params.get('response_type'), 'code')
        assert.equal(params.get('client_id'), variant.clientId)
        assert.equal(params.get('redirect_uri'), variant.redirectUri)
        assert.equal(params.get('scope'), 'openid profile email')
        assert.equal(params.get('state'), flowState.state)
        assert.equal(params.get('nonce'), flowState.nonce)
        assert.equal(params.get('code_challenge_method'), 'S256')
        const challenge = params.get('code_challenge')
        assert.match(challenge ?? '', /^[A-Za-z0-9_-]{43}$/)
        assert.ok(flowState.codeVerifier)
        assert.equal(challenge, s256(flowState.codeVerifier))
        assert.equal(flowState.providerId, 'oidc')
      })

      it('is refused by the provider without PKCE (it requires PKCE for every client)', async () => {
        const base = oidc({
          issuer: op.issuer,
          clientId: variant.clientId,
          redirectUri: variant.redirectUri,
          ...(variant.authMethod === 'none' ? {} : { clientSecret: CONFIDENTIAL.clientSecret }),
        })
        // Pushed, the request is refused before the user sees a page.
        await rejectsWith(
          new OAuth2Flow({ ...base, pkce: 'disabled-unsafe' }).initiateLogin(),
          'token_error',
          'invalid_request',
          /PKCE/,
        )
        const noPkce = new OAuth2Flow({ ...base, pkce: 'disabled-unsafe', par: false })
        const { url, flowState } = await noPkce.initiateLogin()
        assert.equal(url.searchParams.get('code_challenge'), null)
        const callback = await followToCallback(url, variant.redirectUri)
        assert.equal(callback.searchParams.get('code'), null)
        await rejectsWith(
          noPkce.finalizeLogin(callback, flowState),
          'authorization_error',
          'invalid_request',
          /PKCE/,
        )
      })

      it('has its code exchange rejected by the provider with a wrong verifier', async () => {
        const { flowState, callback } = await startLogin()
        const other = (await Pkce.generate()).codeVerifier
        assert.notEqual(other, flowState.codeVerifier)
        await rejectsWith(
          flow.finalizeLogin(callback, { ...flowState, codeVerifier: other }),
          'token_error',
          'invalid_grant',
        )
        // oidc-provider checks PKCE before spending the code: the same code with the right
        // verifier goes through, so the verifier alone was what failed.
        const { identity } = await flow.finalizeLogin(callback, flowState)
        assert.equal(identity.subject, DEFAULT_ACCOUNT.sub)
      })

      async function login() {
        const { flowState, callback } = await startLogin()
        return flow.finalizeLogin(callback, flowState)
      }

      it('logs in and refreshes', async () => {
        const { flowState, callback } = await startLogin()
        assert.equal(callback.searchParams.get('iss'), op.issuer)
        assert.equal(callback.searchParams.get('state'), flowState.state)

        const { identity, tokens } = await flow.finalizeLogin(callback, flowState)
        assert.equal(identity.provider, 'oidc')
        assert.equal(identity.subject, DEFAULT_ACCOUNT.sub)
        assert.equal(identity.email, DEFAULT_ACCOUNT.email)
        assert.equal(identity.emailVerified, true)
        assert.equal(identity.name, DEFAULT_ACCOUNT.name)
        assert.equal(identity.username, DEFAULT_ACCOUNT.preferred_username)
        assert.equal(identity.picture, null)
        assert.equal(identity.claims.sub, DEFAULT_ACCOUNT.sub)

        assert.equal(typeof tokens.accessToken, 'string')
        assert.ok(tokens.accessToken.length > 0)
        assert.equal(tokens.tokenType, 'Bearer')
        assert.ok(tokens.idToken)
        assert.equal(decodeProtectedHeader(tokens.idToken).alg, variant.idTokenAlg)
        assert.equal(tokens.idTokenClaims?.nonce, flowState.nonce)
        assert.equal(tokens.idTokenClaims?.sub, DEFAULT_ACCOUNT.sub)
        assert.equal(tokens.idTokenClaims?.aud, variant.clientId)
        assert.equal(tokens.idTokenClaims?.iss, op.issuer)
        assert.ok(tokens.expiresAt !== undefined && tokens.expiresAt > Date.now())
        assert.deepEqual([...(tokens.scope ?? [])].sort(), ['email', 'openid', 'profile'])
        const refreshToken = tokens.refreshToken
        assert.ok(refreshToken, 'oidc-provider issued no refresh token')
        assert.equal(await userinfoStatus(flow, tokens.accessToken), 200)

        const refreshed = await flow.refresh(refreshToken)
        assert.notEqual(refreshed.accessToken, tokens.accessToken)
        assert.equal(refreshed.tokenType, 'Bearer')
        assert.equal(typeof refreshed.idToken, 'string')
        assert.equal(refreshed.idTokenClaims?.sub, DEFAULT_ACCOUNT.sub)
        assert.equal(refreshed.idTokenClaims?.aud, variant.clientId)
        assert.equal(await userinfoStatus(flow, refreshed.accessToken), 200)
        if (variant.rotates) {
          assert.ok(refreshed.refreshToken, 'a rotated refresh token was expected')
          assert.notEqual(refreshed.refreshToken, refreshToken)
          // The new one works in turn.
          const next = await flow.refresh(refreshed.refreshToken)
          assert.equal(await userinfoStatus(flow, next.accessToken), 200)
        } else {
          assert.ok(refreshed.refreshToken === undefined || refreshed.refreshToken === refreshToken)
          // Not rotated: the same refresh token keeps working.
          const next = await flow.refresh(refreshToken)
          assert.equal(await userinfoStatus(flow, next.accessToken), 200)
        }
      })

      it('revokes a refresh token (the provider then ends the whole grant)', async () => {
        const { tokens } = await login()
        assert.ok(tokens.refreshToken)
        await flow.revoke(tokens.refreshToken, { tokenTypeHint: 'refresh_token' })
        await rejectsWith(flow.refresh(tokens.refreshToken), 'token_error', 'invalid_grant')
        assert.equal(await userinfoStatus(flow, tokens.accessToken), 401)
      })

      it('revokes an access token', async () => {
        const { tokens } = await login()
        assert.equal(await userinfoStatus(flow, tokens.accessToken), 200)
        await flow.revoke(tokens.accessToken, { tokenTypeHint: 'access_token' })
        assert.equal(await userinfoStatus(flow, tokens.accessToken), 401)
        // Revoking it again, or an unknown token, is still a success (RFC 7009 §2.2).
        await flow.revoke(tokens.accessToken)
        await flow.revoke(randomBytes(32).toString('base64url'))
      })

      if (variant.rotates) {
        it('has a rotated-out refresh token rejected on reuse', async () => {
          const { tokens } = await login()
          assert.ok(tokens.refreshToken)
          const refreshed = await flow.refresh(tokens.refreshToken)
          assert.ok(refreshed.refreshToken)
          await rejectsWith(flow.refresh(tokens.refreshToken), 'token_error', 'invalid_grant')
        })
      }

      it('fails a replayed callback, and the provider revokes what the code issued', async () => {
        const { flowState, callback } = await startLogin()
        const { tokens } = await flow.finalizeLogin(callback, flowState)
        assert.equal(await userinfoStatus(flow, tokens.accessToken), 200)
        await rejectsWith(flow.finalizeLogin(callback, flowState), 'token_error', 'invalid_grant')
        assert.equal(await userinfoStatus(flow, tokens.accessToken), 401)
      })

      it('refuses a tampered state, a wrong or missing iss before spending the code', async () => {
        const { flowState, callback } = await startLogin()
        await rejectsWith(
          flow.finalizeLogin(
            withParam(callback, 'state', randomBytes(32).toString('base64url')),
            flowState,
          ),
          'state_mismatch',
        )
        await rejectsWith(
          flow.finalizeLogin(withParam(callback, 'iss', 'http://127.0.0.1:1'), flowState),
          'issuer_mismatch',
        )
        await rejectsWith(
          flow.finalizeLogin(withParam(callback, 'iss', `${op.issuer}/`), flowState),
          'issuer_mismatch',
        )
        await rejectsWith(
          flow.finalizeLogin(withParam(callback, 'iss', null), flowState),
          'issuer_missing',
        )
        // None of these reached the token endpoint: the code is still good.
        const { identity } = await flow.finalizeLogin(callback, flowState)
        assert.equal(identity.subject, DEFAULT_ACCOUNT.sub)
      })

      it('reports a denied login as the provider’s access_denied', async () => {
        op.interactions.deny = true
        try {
          const { flowState, callback } = await startLogin()
          assert.equal(callback.searchParams.get('error'), 'access_denied')
          await rejectsWith(
            flow.finalizeLogin(callback, flowState),
            'authorization_error',
            'access_denied',
          )
        } finally {
          op.interactions.deny = false
        }
      })
    })
  }

  it('confidential client: the provider refuses a wrong client secret', async () => {
    const config = oidc({
      issuer: op.issuer,
      clientId: CONFIDENTIAL.clientId,
      clientSecret: randomBytes(32).toString('base64url'),
      redirectUri: CONFIDENTIAL.redirectUri,
    })
    // Pushed (PAR), the client authenticates before the user is sent anywhere.
    await rejectsWith(new OAuth2Flow(config).initiateLogin(), 'token_error', 'invalid_client')
    const wrong = new OAuth2Flow({ ...config, par: false })
    const { url, flowState } = await wrong.initiateLogin()
    const callback = await followToCallback(url, CONFIDENTIAL.redirectUri)
    await rejectsWith(wrong.finalizeLogin(callback, flowState), 'token_error', 'invalid_client')
  })

  it('saw no server_error inside oidc-provider', () => {
    assert.deepEqual(op.serverErrors, [])
  })
})
