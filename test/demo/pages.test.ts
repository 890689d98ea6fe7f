// The demo's pages and the inspector's redaction, in process: hostile values from a provider
// (claims, names, URLs) come out escaped, and codes, secrets and tokens never come out whole.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { html } from '../../examples/demo/html.ts'
import { checkPkce } from '../../examples/demo/inspector/pkce-check.ts'
import {
  type FlowTrace,
  redactTokenResponse,
  redactUrl,
  safeParam,
} from '../../examples/demo/inspector/trace.ts'
import { inspectorPage } from '../../examples/demo/pages/inspector.ts'
import { profilePage } from '../../examples/demo/pages/profile.ts'
import type { DemoUser } from '../../examples/demo/user.ts'
import { Pkce } from '../../src/core/pkce.ts'

const EVIL = `"><script>alert(1)</script><img src=x onerror=alert(2)>`

const user: DemoUser = {
  provider: 'authkestra',
  issuer: `https://id.example/${EVIL}`,
  subject: EVIL,
  name: EVIL,
  email: `${EVIL}@example.com`,
  emailVerified: false,
  username: EVIL,
  claims: { [EVIL]: EVIL, nested: { x: EVIL }, iat: 1_700_000_000 },
  lastLogin: null,
}

function assertInert(page: string): void {
  assert.doesNotMatch(page, /<script|<img|<[^>]*\sonerror=/i)
  assert.match(page, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/)
}

describe('demo pages', () => {
  it('escapes every interpolated value and keeps nested fragments', () => {
    assert.equal(
      html`<p title="${EVIL}">${EVIL}${html`<b>ok</b>`}</p>`.value,
      '<p title="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;">&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;<b>ok</b></p>',
    )
  })

  it('renders a profile with hostile claims inert', () => {
    const now = Date.now()
    const page = profilePage(
      {
        user,
        provider: 'authkestra',
        subject: EVIL,
        createdAt: new Date(now),
        expiresAt: new Date(now + 3_600_000),
        auth: {},
        idleExpiresAt: new Date(now + 1_800_000),
      },
      EVIL,
      now,
    ).value
    assertInert(page)
    assert.match(page, /<span class="badge warn">not verified<\/span>/)
    assert.match(page, /2023-11-14 22:13:20 UTC/, 'time claims are shown as dates too')
  })

  it('renders an inspector trace with hostile values inert, and ✗ for a wrong verifier', async () => {
    const { codeChallenge } = await Pkce.generate()
    const trace: FlowTrace = {
      provider: 'authkestra',
      authorization: {
        at: 0,
        url: `https://id.example/authorize?state=${encodeURIComponent(EVIL)}&code_challenge=${codeChallenge}&code_challenge_method=S256`,
      },
      callback: { at: 1, url: `https://app.example/cb?code=[redacted]&iss=${EVIL}` },
      token: {
        at: 2,
        endpoint: `https://id.example/${EVIL}`,
        params: [
          ['grant_type', 'authorization_code'],
          ['code_verifier', 'A'.repeat(43)],
        ],
        authorization: null,
        status: 200,
        response: [[EVIL, EVIL]],
      },
      result: {
        at: 3,
        identity: { ...user },
        tokens: {
          tokenType: 'Bearer',
          expiresAt: null,
          accessToken: EVIL,
          idToken: null,
          refreshToken: null,
          scope: [EVIL],
        },
      },
    }
    const pkce = await checkPkce(trace)
    assert.equal(pkce.match, false)
    assert.equal(pkce.computed, await Pkce.challenge('A'.repeat(43)))
    const page = inspectorPage(user, trace, pkce, EVIL, Date.now()).value
    assertInert(page)
    assert.match(page, /<h3>PKCE check <span class="check bad" title="does not match">✗<\/span>/)
  })
})

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url')

describe('inspector redaction', () => {
  it('redacts codes and client secrets, keeps the verifier, decodes JWTs without their signature, cuts other tokens to 8 characters', () => {
    assert.equal(safeParam('code', 'abcdef'), '[redacted, 6 characters]')
    assert.equal(safeParam('client_secret', 's3cr3t'), '[redacted, 6 characters]')
    assert.equal(safeParam('code_verifier', 'v'.repeat(43)), 'v'.repeat(43))
    const shown = redactUrl(new URL('http://localhost:3000/cb?code=SECRETCODE&state=s+1&iss=x'))
    assert.equal(shown, 'http://localhost:3000/cb?code=[redacted, 10 characters]&state=s%201&iss=x')
    assert.equal(new URL(shown).searchParams.get('code'), '[redacted, 10 characters]')
    assert.deepEqual(
      redactTokenResponse({
        access_token: `${b64({ alg: 'ES256', typ: 'at+jwt' })}.${b64({ sub: 'alice', scope: 'openid' })}.c2lnbmF0dXJl`,
        refresh_token: 'opaque-refresh-token',
        id_token: 'eyJ0eXAiOiJKV1QifQ.x.y',
        token_type: 'Bearer',
        expires_in: 600,
        device_code: 'dc-secret',
      }),
      [
        [
          'access_token',
          '{"alg":"ES256","typ":"at+jwt"} . {"sub":"alice","scope":"openid"} . [signature, 12 characters]',
        ],
        ['refresh_token', 'opaque-r…'],
        ['id_token', 'eyJ0eXAi…'], // not a JWT after all: its claims are not JSON
        ['token_type', 'Bearer'],
        ['expires_in', '600'],
        ['device_code', '[redacted, 9 characters]'],
      ],
    )
  })
})
