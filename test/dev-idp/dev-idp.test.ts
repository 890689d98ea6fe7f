// `authkestra dev-idp` as a user runs it: a real process on loopback, driven over HTTP by our own
// OAuth2Flow (the client side of this library) through the login form and through --auto-login.
import assert from 'node:assert/strict'
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { OAuth2Flow } from '../../src/client/oauth2-flow.ts'
import { createDpopProof, generateDpopKey } from '../../src/dpop/index.ts'
import { oidc } from '../../src/providers/oidc.ts'
import { loginThroughForm } from '../helpers/login-form.ts'
import { freePort, rawHttp } from '../helpers/net.ts'

const root = new URL('../../', import.meta.url).pathname
const children: ChildProcess[] = []
after(() => {
  for (const child of children) child.kill()
})

function run(args: string[]): {
  child: ChildProcess
  ready: Promise<string>
  exit: Promise<{ code: number | null; stderr: string }>
} {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/dev-idp/main.ts', ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  let stdout = ''
  let stderr = ''
  const ready = new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (d) => {
      stdout += d
      const m = /authkestra dev-idp ready: issuer (\S+)/.exec(stdout)
      if (m?.[1]) resolve(m[1])
    })
    child.on('exit', () => reject(new Error(`exited before ready: ${stderr}`)))
  })
  ready.catch(() => {})
  child.stderr?.on('data', (d) => {
    stderr += d
  })
  const exit = new Promise<{ code: number | null; stderr: string }>((resolve) =>
    child.on('exit', (code) => resolve({ code, stderr })),
  )
  return { child, ready, exit }
}

function configFile(content: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'authkestra-dev-idp-'))
  const path = join(dir, 'config.json')
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content))
  return path
}

const demoFlow = (issuer: string) =>
  new OAuth2Flow(
    oidc({
      id: 'authkestra',
      issuer,
      clientId: 'demo-app',
      redirectUri: 'http://localhost:3000/auth/callback/authkestra',
    }),
  )

describe('authkestra dev-idp', () => {
  it('serves the demo client and alice through the login form, for our own client', async () => {
    const { ready } = run(['--port', '0'])
    const issuer = await ready
    assert.match(issuer, /^http:\/\/127\.0\.0\.1:\d+$/)
    const flow = demoFlow(issuer)
    const { url, flowState } = await flow.initiateLogin({
      scopes: ['openid', 'profile', 'email', 'offline_access'],
    })
    const login = await loginThroughForm(url, { username: 'alice', password: 'wonderland' })
    const callback = login.callback.href
    assert.match(callback, /^http:\/\/localhost:3000\/auth\/callback\/authkestra\?code=/)
    const { identity, tokens } = await flow.finalizeLogin(callback, flowState)
    assert.equal(identity.username, 'alice')
    assert.equal(identity.email, 'alice@example.com')
    assert.equal(identity.emailVerified, true)
    assert.equal(identity.issuer, issuer)
    assert.ok(tokens.refreshToken)
    const refreshed = await flow.refresh(tokens)
    assert.ok(refreshed.accessToken)
    await flow.revoke(refreshed.refreshToken ?? '', { tokenTypeHint: 'refresh_token' })
  })

  it('--auto-login grants every authorization without a form', async () => {
    const { ready } = run(['--port', '0', '--auto-login', 'alice'])
    const issuer = await ready
    const flow = demoFlow(issuer)
    const { url, flowState } = await flow.initiateLogin()
    const response = await fetch(url, { redirect: 'manual' })
    const { identity } = await flow.finalizeLogin(response.headers.get('location') ?? '', flowState)
    assert.equal(identity.name, 'Alice Liddell')
  })

  it('reads clients and users from --config', async () => {
    const path = configFile({
      clients: [
        {
          client_id: 'svc',
          client_secret: 'svc-secret-0123456789',
          redirect_uris: ['https://app.example/cb'],
          grant_types: ['authorization_code', 'client_credentials'],
          skip_consent: true,
        },
      ],
      users: [{ username: 'bob', password: 'builder', claims: { email: 'bob@example.com' } }],
    })
    const { ready } = run(['--port', '0', '--config', path, '--auto-login', 'bob'])
    const issuer = await ready
    const token = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${btoa('svc:svc-secret-0123456789')}`,
      },
      body: 'grant_type=client_credentials',
    })
    assert.equal(token.status, 200)
  })

  it('takes dpop_bound_access_tokens per client and dpop (nonces) from --config', async () => {
    const path = configFile({
      clients: [
        {
          client_id: 'svc',
          client_secret: 'svc-secret-0123456789',
          redirect_uris: [],
          grant_types: ['client_credentials'],
          dpop_bound_access_tokens: true,
        },
      ],
      dpop: { nonce: 'required', nonceSecret: 'n'.repeat(32), algorithms: ['ES256'] },
    })
    const { ready } = run(['--port', '0', '--config', path])
    const issuer = await ready
    const key = await generateDpopKey()
    const ask = async (nonce?: string) =>
      fetch(`${issuer}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${btoa('svc:svc-secret-0123456789')}`,
          dpop: await createDpopProof(key, {
            method: 'POST',
            url: `${issuer}/token`,
            ...(nonce ? { nonce } : {}),
          }),
        },
        body: 'grant_type=client_credentials',
      })
    const first = await ask()
    assert.equal(first.status, 400)
    assert.equal(((await first.json()) as { error: string }).error, 'use_dpop_nonce')
    const second = await ask(first.headers.get('dpop-nonce') ?? '')
    assert.equal(second.status, 200)
    assert.equal(((await second.json()) as { token_type: string }).token_type, 'DPoP')
    const meta = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as {
      dpop_signing_alg_values_supported: string[]
    }
    assert.deepEqual(meta.dpop_signing_alg_values_supported, ['ES256'])
  })

  it('takes signingAlgs, refreshTokens, id_token_signed_response_alg and the refresh policy from --config', async () => {
    const path = configFile({
      signingAlgs: ['PS256', 'EdDSA', 'RS256'],
      refreshTokens: { rotation: 'rotate-with-grace', graceSeconds: 30 },
      clients: [
        {
          client_id: 'web',
          client_secret: 'web-secret-0123456789',
          redirect_uris: ['https://app.example/cb'],
          id_token_signed_response_alg: 'EdDSA',
          refresh_token_rotation: 'none',
        },
      ],
      users: [{ username: 'bob', password: 'builder' }],
    })
    const { ready } = run(['--port', '0', '--config', path, '--auto-login', 'bob'])
    const issuer = await ready
    const meta = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as {
      id_token_signing_alg_values_supported: string[]
    }
    assert.deepEqual(meta.id_token_signing_alg_values_supported, ['PS256', 'EdDSA', 'RS256'])
    const verifier = 'v'.repeat(43)
    const challenge = createHash('sha256').update(verifier).digest('base64url')
    const authorize = new URL(`${issuer}/authorize`)
    for (const [k, v] of Object.entries({
      client_id: 'web',
      redirect_uri: 'https://app.example/cb',
      response_type: 'code',
      scope: 'openid offline_access',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state: 's'.repeat(22),
      nonce: 'n'.repeat(22),
    }))
      authorize.searchParams.set(k, v)
    const redirect = await fetch(authorize, { redirect: 'manual' })
    const code = new URL(redirect.headers.get('location') ?? '').searchParams.get('code') ?? ''
    const token = (body: Record<string, string>) =>
      fetch(`${issuer}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${btoa('web:web-secret-0123456789')}`,
        },
        body: new URLSearchParams(body),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, string> }))
    const first = await token({
      grant_type: 'authorization_code',
      code,
      redirect_uri: 'https://app.example/cb',
      code_verifier: verifier,
    })
    assert.equal(first.status, 200)
    const header = JSON.parse(
      Buffer.from(first.body.id_token?.split('.')[0] ?? '', 'base64url').toString(),
    )
    assert.equal(header.alg, 'EdDSA')
    const access = JSON.parse(
      Buffer.from(first.body.access_token?.split('.')[0] ?? '', 'base64url').toString(),
    )
    assert.equal(access.alg, 'PS256', 'access tokens: the first of signingAlgs')
    // refresh_token_rotation "none": the same refresh token works again, no successor.
    for (let i = 0; i < 2; i++) {
      const again = await token({
        grant_type: 'refresh_token',
        refresh_token: first.body.refresh_token ?? '',
      })
      assert.equal(again.status, 200)
      assert.equal(again.body.refresh_token, undefined)
    }
  })

  it('takes resources and allowed_resources from --config (RFC 8707)', async () => {
    const path = configFile({
      clients: [
        {
          client_id: 'svc',
          client_secret: 'svc-secret-0123456789abcdef',
          redirect_uris: [],
          grant_types: ['client_credentials'],
          allowed_resources: ['https://api.example/'],
        },
      ],
      resources: [{ resource: 'https://api.example/', accessTokenTtl: 60 }],
    })
    const { ready } = run(['--port', '0', '--config', path])
    const issuer = await ready
    const token = async (resource: string) => {
      const response = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${btoa('svc:svc-secret-0123456789abcdef')}`,
        },
        body: new URLSearchParams({ grant_type: 'client_credentials', resource }),
      })
      return { status: response.status, body: (await response.json()) as Record<string, string> }
    }
    const ok = await token('https://api.example/')
    assert.equal(ok.status, 200)
    assert.equal(ok.body.expires_in as unknown, 60)
    const claims = JSON.parse(
      Buffer.from(ok.body.access_token?.split('.')[1] ?? '', 'base64url').toString(),
    )
    assert.equal(claims.aud, 'https://api.example/')
    const refused = await token('https://elsewhere.example/')
    assert.equal(refused.status, 400)
    assert.equal(refused.body.error, 'invalid_target')
  })

  it('takes rateLimits and trustedProxies from --config', async () => {
    const path = configFile({
      clients: [
        {
          client_id: 'svc',
          client_secret: 'svc-secret-0123456789abcdef',
          redirect_uris: [],
          grant_types: ['client_credentials'],
        },
      ],
      rateLimits: { tokenFailuresPerClient: { limit: 2, windowSeconds: 60 } },
      trustedProxies: ['loopback'],
    })
    const { ready } = run(['--port', '0', '--config', path])
    const issuer = await ready
    const token = (body: string) =>
      fetch(`${issuer}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${btoa('svc:svc-secret-0123456789abcdef')}`,
        },
        body,
      })
    const bad = 'grant_type=refresh_token&refresh_token=guessed'
    assert.equal((await token('grant_type=client_credentials')).status, 200)
    assert.equal((await token(bad)).status, 400)
    assert.equal((await token(bad)).status, 400)
    const refused = await token('grant_type=client_credentials')
    assert.equal(refused.status, 429)
    assert.equal(refused.headers.get('retry-after'), '30')
    assert.equal(((await refused.json()) as { error: string }).error, 'temporarily_unavailable')
  })

  it('takes require_pushed_authorization_requests per client and par from --config', async () => {
    const path = configFile({
      clients: [
        {
          client_id: 'web',
          client_secret: 'web-secret-0123456789',
          redirect_uris: ['https://app.example/cb'],
          require_pushed_authorization_requests: true,
        },
      ],
      users: [{ username: 'alice', password: 'wonderland' }],
      par: { requestUriTtlSeconds: 30 },
    })
    const { ready } = run(['--port', '0', '--config', path, '--auto-login', 'alice'])
    const issuer = await ready
    const form = {
      response_type: 'code',
      redirect_uri: 'https://app.example/cb',
      scope: 'openid',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    }
    const direct = await fetch(
      `${issuer}/authorize?${new URLSearchParams({ client_id: 'web', ...form })}`,
      {
        redirect: 'manual',
      },
    )
    assert.equal(
      new URL(direct.headers.get('location') ?? '').searchParams.get('error'),
      'invalid_request',
    )
    const pushed = await fetch(`${issuer}/par`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${btoa('web:web-secret-0123456789')}`,
      },
      body: new URLSearchParams(form),
    })
    assert.equal(pushed.status, 201)
    const { request_uri, expires_in } = (await pushed.json()) as {
      request_uri: string
      expires_in: number
    }
    assert.equal(expires_in, 30)
    const viaPar = await fetch(
      `${issuer}/authorize?${new URLSearchParams({ client_id: 'web', request_uri })}`,
      {
        redirect: 'manual',
      },
    )
    assert.ok(new URL(viaPar.headers.get('location') ?? '').searchParams.get('code'))
  })

  it('takes private_key_jwt clients (jwks, token_endpoint_auth_signing_alg) from --config', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256')
    const path = configFile({
      clients: [
        {
          client_id: 'svc',
          token_endpoint_auth_method: 'private_key_jwt',
          token_endpoint_auth_signing_alg: 'ES256',
          jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1' }] },
          redirect_uris: [],
          grant_types: ['client_credentials'],
        },
      ],
    })
    const { ready } = run(['--port', '0', '--config', path])
    const issuer = await ready
    const assertion = await new SignJWT({ jti: crypto.randomUUID() })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer('svc')
      .setSubject('svc')
      .setAudience(issuer)
      .setIssuedAt()
      .setExpirationTime('60s')
      .sign(privateKey)
    const token = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: assertion,
      }),
    })
    assert.equal(token.status, 200, await token.clone().text())
    const meta = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as {
      token_endpoint_auth_methods_supported: string[]
    }
    assert.ok(meta.token_endpoint_auth_methods_supported.includes('private_key_jwt'))
  })

  it('refuses a rebound host name (421) before anything runs: no login, no token', async () => {
    const path = configFile({
      clients: [
        {
          client_id: 'svc',
          client_secret: 'svc-secret-0123456789',
          redirect_uris: ['https://app.example/cb'],
          grant_types: ['client_credentials'],
        },
      ],
      users: [{ username: 'bob', password: 'builder' }],
    })
    const { ready } = run(['--port', '0', '--config', path])
    const issuer = new URL(await ready)
    const port = Number(issuer.port)
    const attacker = `rebind.evil.example:${port}`
    const token = {
      method: 'POST',
      path: '/token',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${btoa('svc:svc-secret-0123456789')}`,
      },
      body: 'grant_type=client_credentials',
    }
    const minted = await rawHttp(port, { ...token, host: attacker })
    assert.equal(minted.status, 421)
    assert.doesNotMatch(minted.body, /access_token|rebind/)
    const discovery = await rawHttp(port, {
      host: attacker,
      path: '/.well-known/openid-configuration',
    })
    assert.equal(discovery.status, 421)
    assert.equal((await rawHttp(port, { host: undefined })).status, 400)
    const own = await rawHttp(port, { ...token, host: issuer.host })
    assert.equal(own.status, 200, "the issuer's own host is served")
    assert.ok(JSON.parse(own.body).access_token)
  })

  it('serves the --issuer host and the --allow-host names, and no other', async () => {
    const port = await freePort()
    const { ready } = run([
      '--port',
      String(port),
      '--issuer',
      `http://localhost:${port}`,
      '--allow-host',
      'idp.localhost',
    ])
    assert.equal(await ready, `http://localhost:${port}`)
    const discovery = '/.well-known/openid-configuration'
    const viaIssuer = await rawHttp(port, { host: `localhost:${port}`, path: discovery })
    assert.equal(viaIssuer.status, 200)
    assert.equal(JSON.parse(viaIssuer.body).issuer, `http://localhost:${port}`)
    assert.equal(
      (await rawHttp(port, { host: `idp.localhost:${port}`, path: discovery })).status,
      200,
    )
    assert.equal((await rawHttp(port, { host: `127.0.0.1:${port}`, path: discovery })).status, 421)
    const { exit } = run(['--port', '0', '--allow-host', 'a/b'])
    assert.equal((await exit).code, 2)
  })

  const bad: [string, unknown, RegExp][] = [
    ['not JSON', '{nope', /not valid JSON/],
    ['no clients', { users: [] }, /"clients"/],
    [
      'a client without client_id',
      { clients: [{ redirect_uris: ['https://a/cb'] }] },
      /"clients\[0\]\.client_id"/,
    ],
    [
      'an unknown field',
      { clients: [{ client_id: 'a', redirect_uris: ['https://a/cb'], colour: 'red' }] },
      /"clients\[0\]\.colour"/,
    ],
    [
      'an insecure redirect',
      { clients: [{ client_id: 'a', redirect_uris: ['http://a.example/cb'] }] },
      /"clients\[0\]\.redirect_uris\[0\]"/,
    ],
    [
      'a user without password',
      {
        clients: [{ client_id: 'a', redirect_uris: ['https://a/cb'] }],
        users: [{ username: 'x' }],
      },
      /"users\[0\]\.password"/,
    ],
    [
      'a TOTP secret that is not base32',
      {
        clients: [{ client_id: 'a', redirect_uris: ['https://a/cb'] }],
        users: [{ username: 'x', password: 'y', totp_secret: 'not-base32!' }],
      },
      /"users\[0\]\.totp_secret"/,
    ],
    [
      'an unknown dpop field',
      { clients: [{ client_id: 'a', redirect_uris: ['https://a/cb'] }], dpop: { nonces: 'on' } },
      /"dpop\.nonces" is not a known field/,
    ],
    [
      'a dpop algorithm that is not asymmetric',
      {
        clients: [{ client_id: 'a', redirect_uris: ['https://a/cb'] }],
        dpop: { algorithms: ['HS256'] },
      },
      /"dpop\.algorithms"/,
    ],
    [
      'dpop_bound_access_tokens that is not a boolean',
      {
        clients: [{ client_id: 'a', redirect_uris: ['https://a/cb'], dpop_bound_access_tokens: 1 }],
      },
      /"clients\[0\]\.dpop_bound_access_tokens"/,
    ],
    [
      'an id_token_signed_response_alg the OP does not sign with',
      {
        signingAlgs: ['ES256'],
        clients: [
          {
            client_id: 'a',
            redirect_uris: ['https://a/cb'],
            id_token_signed_response_alg: 'PS256',
          },
        ],
      },
      /"clients\[0\]\.id_token_signed_response_alg"/,
    ],
    [
      'signingAlgs that is not an array',
      { signingAlgs: 'ES256', clients: [{ client_id: 'a', redirect_uris: ['https://a/cb'] }] },
      /"signingAlgs" must be an array/,
    ],
    [
      'a refresh_token_rotation none for a public client',
      {
        clients: [
          { client_id: 'a', redirect_uris: ['https://a/cb'], refresh_token_rotation: 'none' },
        ],
      },
      /"clients\[0\]\.refresh_token_rotation"/,
    ],
    [
      'an unknown refreshTokens field',
      {
        clients: [{ client_id: 'a', redirect_uris: ['https://a/cb'] }],
        refreshTokens: { grace: 5 },
      },
      /"refreshTokens\.grace" is not a known field/,
    ],
    [
      'an unknown rateLimits field',
      {
        clients: [{ client_id: 'a', redirect_uris: ['https://a/cb'] }],
        rateLimits: { passwords: { limit: 5, windowSeconds: 60 } },
      },
      /"rateLimits\.passwords" is not a known field/,
    ],
    [
      'a malformed rate limit rule',
      {
        clients: [{ client_id: 'a', redirect_uris: ['https://a/cb'] }],
        rateLimits: { passwordPerIp: { limit: 0, windowSeconds: 60 } },
      },
      /"rateLimits\.passwordPerIp"/,
    ],
    [
      'trustedProxies that is not a list',
      {
        clients: [{ client_id: 'a', redirect_uris: ['https://a/cb'] }],
        trustedProxies: 'loopback',
      },
      /"trustedProxies" must be an array/,
    ],
    [
      'a trusted proxy that is no address',
      { clients: [{ client_id: 'a', redirect_uris: ['https://a/cb'] }], trustedProxies: ['nope'] },
      /trustedProxies: "nope"/,
    ],
    [
      'resources that is not an array',
      { clients: [{ client_id: 'a', redirect_uris: ['https://a/cb'] }], resources: 'https://api' },
      /"resources" must be an array/,
    ],
    [
      'an unknown resources field',
      {
        clients: [{ client_id: 'a', redirect_uris: ['https://a/cb'] }],
        resources: [{ resource: 'https://api.example', ttl: 5 }],
      },
      /"resources\[0\]\.ttl" is not a known field/,
    ],
    [
      'a resource with a fragment',
      {
        clients: [{ client_id: 'a', redirect_uris: ['https://a/cb'] }],
        resources: [{ resource: 'https://api.example/#x' }],
      },
      /"resources\[0\]\.resource" must be an absolute URI without fragment/,
    ],
    [
      'allowed_resources naming a resource not configured',
      {
        clients: [
          {
            client_id: 'a',
            redirect_uris: ['https://a/cb'],
            allowed_resources: ['https://other.example'],
          },
        ],
        resources: [{ resource: 'https://api.example' }],
      },
      /"clients\[0\]\.allowed_resources\[0\]" is not one of the OP's "resources"/,
    ],
    [
      'allowed_resources that is not an array',
      {
        clients: [{ client_id: 'a', redirect_uris: ['https://a/cb'], allowed_resources: 'x' }],
      },
      /"clients\[0\]\.allowed_resources" must be an array/,
    ],
    [
      'an unknown par field',
      { clients: [{ client_id: 'a', redirect_uris: ['https://a/cb'] }], par: { ttl: 5 } },
      /"par\.ttl" is not a known field/,
    ],
    [
      'a request_uri lifetime out of range',
      {
        clients: [{ client_id: 'a', redirect_uris: ['https://a/cb'] }],
        par: { requestUriTtlSeconds: 3600 },
      },
      /"par\.requestUriTtlSeconds"/,
    ],
    [
      'require_pushed_authorization_requests that is not a boolean',
      {
        clients: [
          {
            client_id: 'a',
            redirect_uris: ['https://a/cb'],
            require_pushed_authorization_requests: 'yes',
          },
        ],
      },
      /"clients\[0\]\.require_pushed_authorization_requests"/,
    ],
    [
      'a profile other than fapi2',
      { profile: 'fapi1', clients: [{ client_id: 'a', redirect_uris: ['https://a/cb'] }] },
      /"profile" must be "fapi2"/,
    ],
    [
      'the FAPI 2.0 profile and a public client',
      { profile: 'fapi2', clients: [{ client_id: 'a', redirect_uris: ['https://a/cb'] }] },
      /FAPI 2\.0 Security Profile: clients\[0\] \("a"\) is a public client/,
    ],
    [
      'jwks that is not an object',
      {
        clients: [
          {
            client_id: 'a',
            redirect_uris: [],
            token_endpoint_auth_method: 'private_key_jwt',
            jwks: 'k',
          },
        ],
      },
      /"clients\[0\]\.jwks" must be an object/,
    ],
  ]
  for (const [label, content, message] of bad) {
    it(`exits 2 naming the field for a config with ${label}`, async () => {
      const { exit } = run(['--port', '0', '--config', configFile(content)])
      const { code, stderr } = await exit
      assert.equal(code, 2)
      assert.match(stderr, message)
    })
  }

  it('exits 2 for bad arguments and an unknown --auto-login user; 0 for --help', async () => {
    assert.equal((await run(['--port', 'x']).exit).code, 2)
    assert.equal((await run(['--bogus']).exit).code, 2)
    assert.equal((await run(['--port', '0', '--auto-login', 'nobody']).exit).code, 2)
    assert.equal((await run(['--help']).exit).code, 0)
    const exposed = await run(['--port', '0', '--host', '0.0.0.0']).exit
    assert.equal(exposed.code, 2)
    assert.match(exposed.stderr, /--dangerously-expose/)
  })
})

describe('the authkestra command', () => {
  const bin = (args: string[]) =>
    spawnSync(process.execPath, ['bin/authkestra.mjs', ...args], { cwd: root, encoding: 'utf8' })

  it('prints its version, and its help (exit 0); names an unknown command (exit 2)', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }
    const version = bin(['--version'])
    assert.equal(version.status, 0)
    assert.equal(version.stdout, `${pkg.version}\n`)
    const help = bin(['--help'])
    assert.equal(help.status, 0)
    assert.match(help.stdout, /dev-idp/)
    const unknown = bin(['dev-ipd'])
    assert.equal(unknown.status, 2)
    assert.match(unknown.stderr, /unknown command "dev-ipd"/)
  })

  it('prints the issuer, the clients with their redirect URIs and the users; no store warning', async () => {
    const { startDevIdp } = await import('../../src/dev-idp/cli.ts')
    const out: string[] = []
    const err: string[] = []
    const running = await startDevIdp(['--port', '0'], {
      out: (line) => out.push(line),
      err: (line) => err.push(line),
    })
    assert.ok(running)
    await running.close()
    assert.match(out[0] ?? '', /^authkestra dev-idp ready: issuer http:\/\/127\.0\.0\.1:\d+$/)
    assert.deepEqual(out.slice(1), [
      '  client demo-app: http://localhost:3000/auth/callback/authkestra',
      '  users: alice',
      `  second factors: ${running.issuer}/account (passkeys need a host name: --issuer http://localhost:<port>)`,
    ])
    assert.deepEqual(err, [], 'the in-memory store is the dev IdP’s own choice: no warning')
  })

  it('serves a page at the issuer root, and with --log prints a line per request without its query', async () => {
    const { startDevIdp } = await import('../../src/dev-idp/cli.ts')
    const out: string[] = []
    const running = await startDevIdp(['--port', '0', '--log'], {
      out: (line) => out.push(line),
      err: () => {},
    })
    assert.ok(running)
    try {
      const page = await fetch(running.issuer)
      assert.equal(page.status, 200)
      const html = await page.text()
      assert.ok(html.includes(`${running.issuer}/.well-known/openid-configuration`))
      assert.ok(html.includes('<code>demo-app</code>'))
      await (await fetch(`${running.issuer}/authorize?client_id=demo-app&state=s3cr3t`)).text()
    } finally {
      await running.close()
    }
    const logged = out.filter((line) => /^GET /.test(line))
    assert.match(logged[0] ?? '', /^GET \/ 200 \d+ms$/)
    assert.match(logged[1] ?? '', /^GET \/authorize \d{3} \d+ms$/)
    assert.ok(!out.some((line) => line.includes('s3cr3t')), 'no query in the log')
  })

  it('says to pick another --port when the port is taken', async () => {
    const { ready } = run(['--port', '0'])
    const port = new URL(await ready).port
    const { code, stderr } = await run(['--port', port]).exit
    assert.equal(code, 2)
    assert.match(
      stderr,
      new RegExp(`port ${port} on 127\\.0\\.0\\.1 is in use: pick another with --port`),
    )
  })
})

describe('dev-idp second factors', () => {
  it('enrolls a user’s totp_secret at start: the login asks for its code, then amr has otp', async () => {
    const { startDevIdp } = await import('../../src/dev-idp/cli.ts')
    const { totpCode } = await import('../../src/mfa/totp.ts')
    const { Browser, authorizationUrl, actionOf, csrfOf } = await import('../op/helpers/browser.ts')
    const secret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP'
    const out: string[] = []
    const running = await startDevIdp(
      [
        '--port',
        '0',
        '--config',
        configFile({
          clients: [
            {
              client_id: 'a',
              redirect_uris: ['https://a.example/cb'],
              skip_consent: true,
              token_endpoint_auth_method: 'none',
            },
          ],
          users: [{ username: 'bob', password: 'builder', totp_secret: secret }],
        }),
      ],
      { out: (l) => out.push(l), err: () => {} },
    )
    assert.ok(running)
    try {
      assert.ok(out.includes('  users: bob (TOTP)'))
      const browser = new Browser((request) => fetch(request, { redirect: 'manual' }))
      const auth = await authorizationUrl(running.issuer, {
        client_id: 'a',
        redirect_uri: 'https://a.example/cb',
      })
      const login = await (
        await browser.get((await browser.get(auth.url)).headers.get('location') ?? '')
      ).text()
      const second = await (
        await browser.post(actionOf(login), {
          username: 'bob',
          password: 'builder',
          csrf: csrfOf(login),
        })
      ).text()
      assert.match(second, /Code from your authenticator app/)
      const done = await browser.post(actionOf(second), {
        csrf: csrfOf(second),
        code: await totpCode(secret, Date.now()),
      })
      assert.equal(done.status, 303)
      const code = new URL(done.headers.get('location') ?? '').searchParams.get('code') ?? ''
      const token = await fetch(`${running.issuer}/token`, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code,
          client_id: 'a',
          redirect_uri: 'https://a.example/cb',
          code_verifier: auth.verifier,
        }),
      })
      const { id_token } = (await token.json()) as { id_token: string }
      const claims = JSON.parse(Buffer.from(id_token.split('.')[1] ?? '', 'base64url').toString())
      assert.deepEqual(claims.amr, ['pwd', 'otp', 'mfa'])
    } finally {
      await running.close()
    }
  })
})

describe('dev-idp HTTP bridge', () => {
  it('keeps a //host path on this origin (the path is appended, never resolved)', async () => {
    const { toWebRequest } = await import('../../src/dev-idp/serve.ts')
    const fake = (url: string) => ({ url, method: 'GET', headers: {} }) as never
    assert.equal(
      toWebRequest(fake('//evil.example/auth/logout'), 'http://127.0.0.1:9000').url,
      'http://127.0.0.1:9000//evil.example/auth/logout',
    )
    assert.equal(
      toWebRequest(fake('http://evil.example/x?y=1'), 'http://127.0.0.1:9000').url,
      'http://127.0.0.1:9000/x?y=1',
    )
  })
})

describe('a module config file (.mjs)', () => {
  const moduleFile = (source: string): string => {
    const dir = mkdtempSync(join(tmpdir(), 'authkestra-dev-idp-'))
    const path = join(dir, 'idp.config.mjs')
    writeFileSync(path, source)
    return path
  }
  const SOURCE = `
const secret = 'svc-secret-0123456789abcdefghijklmnop'
export default {
  clients: [
    {
      client_id: 'svc',
      client_secret: secret,
      redirect_uris: [],
      grant_types: ['client_credentials', 'urn:example:grant:partner', 'urn:ietf:params:oauth:grant-type:token-exchange'],
    },
  ],
  users: [{ username: 'bob', password: 'builder', sub: 'bob-sub' }],
  grants: {
    'urn:example:grant:partner': (request) => {
      if (request.param('assertion') !== 'ok') throw new Error('refused by the test')
      return { sub: 'bob-sub', account: true, scopes: ['openid'] }
    },
  },
  tokenExchange: {
    policy: (r) => (r.audience.includes('https://billing.example') ? { allow: true } : { allow: false, reason: 'no' }),
  },
}
`
  const post = (issuer: string, body: Record<string, string>) =>
    fetch(`${issuer}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${btoa('svc:svc-secret-0123456789abcdefghijklmnop')}`,
      },
      body: new URLSearchParams(body),
    })

  it('gives the OP custom grants and a token-exchange policy; allowed exchanges are printed', async () => {
    const { startDevIdp } = await import('../../src/dev-idp/cli.ts')
    const out: string[] = []
    const err: string[] = []
    const running = await startDevIdp(['--port', '0', '--config', moduleFile(SOURCE)], {
      out: (line) => out.push(line),
      err: (line) => err.push(line),
    })
    assert.ok(running)
    try {
      const meta = (await (
        await fetch(`${running.issuer}/.well-known/openid-configuration`)
      ).json()) as { grant_types_supported: string[] }
      assert.ok(meta.grant_types_supported.includes('urn:example:grant:partner'))
      const granted = await post(running.issuer, {
        grant_type: 'urn:example:grant:partner',
        assertion: 'ok',
      })
      assert.equal(granted.status, 200)
      const tokens = (await granted.json()) as { access_token: string; id_token: string }
      assert.equal(typeof tokens.id_token, 'string')
      const refused = await post(running.issuer, {
        grant_type: 'urn:example:grant:partner',
        assertion: 'no',
      })
      assert.equal(refused.status, 500)
      assert.ok(err.some((l) => l.includes('urn:example:grant:partner')))
      const exchanged = await post(running.issuer, {
        grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
        subject_token: tokens.access_token,
        subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        audience: 'https://billing.example',
      })
      assert.equal(exchanged.status, 200)
      assert.ok(
        out.some((l) => /token exchange/i.test(l) && l.includes('svc')),
        out.join('\n'),
      )
    } finally {
      await running.close()
    }
  })

  const badModules: [string, string, RegExp][] = [
    ['no default export', 'export const clients = []', /has no default export/],
    [
      'an unknown key',
      "export default { clients: [{ client_id: 'a', redirect_uris: ['https://a/cb'] }], grant: {} }",
      /"config\.grant" is not a known field/,
    ],
    [
      'a throw while loading',
      "throw new Error('boom at load')",
      /cannot load config module.*boom at load/,
    ],
    [
      'a grant key that is not a URI',
      "export default { clients: [{ client_id: 'a', redirect_uris: ['https://a/cb'] }], grants: { partner: () => ({}) } }",
      /absolute URI/,
    ],
  ]
  for (const [label, source, message] of badModules) {
    it(`exits 2 with a message for a module with ${label}`, async () => {
      const { code, stderr } = await run(['--port', '0', '--config', moduleFile(source)]).exit
      assert.equal(code, 2)
      assert.match(stderr, message)
    })
  }
})
