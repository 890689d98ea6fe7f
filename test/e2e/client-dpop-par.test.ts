// Our client against our OP, pushing with DPoP (RFC 9449 §10.1, RFC 9126): OAuth2Flow with
// `dpop` on sends a proof with its push (htm POST, htu the PAR endpoint), retries once on the
// OP's use_dpop_nonce, and the OP binds the code to the key. The token exchange proves the same
// key (kept in the flow state) and gets tokens bound to it; a flow state carrying another key
// gets invalid_grant. A flow state holding a non-extractable key is refused by sealFlowState,
// so the engine (which seals it in a cookie) pushes with DPoP only for an extractable key.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { decodeJwt } from 'jose'
import { sealFlowState } from '../../src/client/flow-state.ts'
import { OAuth2Flow } from '../../src/client/oauth2-flow.ts'
import { createKeyring } from '../../src/core/keyring.ts'
import { generateDpopKey } from '../../src/dpop/index.ts'
import { createAuthkestra } from '../../src/engine/create-authkestra.ts'
import { createOp } from '../../src/op/create-op.ts'
import { oidc } from '../../src/providers/oidc.ts'

const ISSUER = 'https://id.example'
const CB = 'https://app.example/cb'
const ENGINE_CB = 'https://app.example/auth/callback/op'
const SECRET = 'rp-secret-0123456789abcdefghijklmnopq'

async function world(dpop: true | { extractable: true } = true) {
  const op = await createOp({
    issuer: ISSUER,
    logger: { warn() {}, error() {} },
    dangerouslyAutoLogin: 'alice',
    dpop: { nonce: 'required', nonceSecret: 'nonce-secret-0123456789abcdefghijkl' },
    clients: [
      {
        client_id: 'rp',
        client_secret: SECRET,
        redirect_uris: [CB],
        skip_consent: true,
        require_pushed_authorization_requests: true,
      },
    ],
    accounts: [{ username: 'alice', password: 'wonderland', claims: { email: 'a@example.com' } }],
  })
  const seen: { path: string; status: number; proof: string | null }[] = []
  const fetchOp: typeof fetch = async (input, init) => {
    const request = new Request(input, init)
    const response = await op.handler(request)
    seen.push({
      path: new URL(request.url).pathname,
      status: response.status,
      proof: request.headers.get('dpop'),
    })
    return response
  }
  const flow = new OAuth2Flow(
    oidc({ id: 'op', issuer: ISSUER, clientId: 'rp', clientSecret: SECRET, redirectUri: CB, dpop }),
    { fetch: fetchOp },
  )
  /** The browser: follows the OP's redirects to the callback. */
  const browse = async (url: URL): Promise<string> => {
    let next = url.href
    for (let hops = 0; hops < 5 && !next.startsWith(CB); hops++) {
      const response = await op.handler(new Request(next))
      await response.body?.cancel()
      const location = response.headers.get('location')
      assert.ok(location, `expected a redirect from ${next}, got ${response.status}`)
      next = new URL(location, next).href
    }
    assert.ok(next.startsWith(CB), next)
    return next
  }
  return { flow, seen, browse }
}

describe('our client pushes with DPoP to our OP (nonces required)', () => {
  it('proves its key at /par, the code is bound to it, the exchange proves it', async () => {
    const { flow, seen, browse } = await world()
    const { url, flowState } = await flow.initiateLogin()
    const key = flowState.dpopKey
    assert.ok(key)
    const pushes = seen.filter((s) => s.path === '/par')
    assert.deepEqual(
      pushes.map((p) => p.status),
      [400, 201],
      'use_dpop_nonce, then the push with the nonce',
    )
    for (const push of pushes) {
      const claims = decodeJwt(push.proof ?? '')
      assert.equal(claims.htm, 'POST')
      assert.equal(claims.htu, `${ISSUER}/par`)
    }
    assert.equal(decodeJwt(pushes[0]?.proof ?? '').nonce, undefined)
    assert.equal(typeof decodeJwt(pushes[1]?.proof ?? '').nonce, 'string')

    const { tokens, identity } = await flow.finalizeLogin(await browse(url), flowState)
    assert.equal(tokens.tokenType, 'DPoP')
    assert.deepEqual(decodeJwt(tokens.accessToken).cnf, { jkt: key.thumbprint })
    assert.equal(identity.email, 'a@example.com')
  })

  it('refuses the code when the exchange proves another key', async () => {
    const { flow, browse } = await world()
    const { url, flowState } = await flow.initiateLogin()
    const callback = await browse(url)
    await assert.rejects(
      flow.finalizeLogin(callback, { ...flowState, dpopKey: await generateDpopKey() }),
      (err: { code?: string; oauthError?: string }) =>
        err.code === 'token_error' && err.oauthError === 'invalid_grant',
    )
  })

  it('seals the push key only when it is extractable', async () => {
    const keys = createKeyring('k'.repeat(43))
    const plain = await (await world()).flow.initiateLogin()
    await assert.rejects(sealFlowState(plain.flowState, { keys }), { code: 'config_invalid' })
    const extractable = await (await world({ extractable: true })).flow.initiateLogin()
    const sealed = await sealFlowState(extractable.flowState, { keys })
    assert.ok(sealed.length < 4096)
  })

  it('the engine makes its push keys extractable to seal them in its flow cookie, unless told not to', async () => {
    const op = await createOp({
      issuer: ISSUER,
      logger: { warn() {}, error() {} },
      clients: [{ client_id: 'rp', client_secret: SECRET, redirect_uris: [ENGINE_CB] }],
    })
    const logged: string[] = []
    const login = async (dpop: true | { extractable: boolean }) => {
      const engine = createAuthkestra({
        secret: 'engine-secret-0123456789abcdefghijklmnopq',
        session: {},
        providers: [
          oidc({
            id: 'op',
            issuer: ISSUER,
            clientId: 'rp',
            clientSecret: SECRET,
            redirectUri: ENGINE_CB,
            dpop,
          }),
        ],
        flowOptions: { fetch: (input, init) => op.handler(new Request(input, init)) },
        logger: { warn: (m) => logged.push(m), error: (m) => logged.push(m) },
      })
      return engine.handler(new Request('https://app.example/auth/login/op'))
    }
    const pushed = await login(true)
    assert.equal(pushed.status, 302)
    assert.match(pushed.headers.get('location') ?? '', /request_uri=urn/)
    const refused = await login({ extractable: false })
    assert.equal(refused.status, 400)
    assert.match(await refused.text(), /Sign-in error/)
    assert.ok(
      logged.some((line) => /config_invalid.*non-extractable DPoP key/.test(line)),
      `${logged}`,
    )
    const explicit = await login({ extractable: true })
    assert.equal(explicit.status, 302)
  })
})
