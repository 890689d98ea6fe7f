// Our OP on loopback with devsig on, for the enrolment tests: two auto-login OPs over one store
// (alice's and bob's tokens), mfa with a memory credential store, a movable clock; `enroll`
// runs challenge → proof → enroll; `assertError` checks a refusal (status, code, no-store, no
// attestation, nothing echoed).
import assert from 'node:assert/strict'
import type { Server } from 'node:http'
import { serve } from '../../../src/dev-idp/serve.ts'
import { createDpopProof, createEnrollmentProof, type DpopKey } from '../../../src/dpop/index.ts'
import { createMemoryCredentialStore, createMfa } from '../../../src/mfa/index.ts'
import type { OpConfig } from '../../../src/op/config.ts'
import { createOp, type Op } from '../../../src/op/create-op.ts'
import { createMemoryOpStore } from '../../../src/op/store/memory.ts'

const CB = 'https://app.example/cb'
const VERIFIER = 'v'.repeat(43)

async function s256(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))
  return Buffer.from(digest).toString('base64url')
}

export interface DevsigWorld {
  readonly issuer: string
  readonly op: Op
  readonly now: { value: number }
  readonly clock: { now(): number }
  readonly store: ReturnType<typeof createMemoryOpStore>
  readonly mfa: ReturnType<typeof createMfa>
  /** An access token for `sub` (via auto-login), DPoP-bound to `dpop` if given. */
  token(sub?: string, dpop?: DpopKey): Promise<string>
  post(
    path: string,
    form: Record<string, string>,
    headers?: Record<string, string>,
  ): Promise<Answer>
  close(): Promise<void>
}

export interface Answer {
  readonly status: number
  readonly headers: Headers
  readonly text: string
  readonly body: Record<string, unknown>
}

/** Our OP on loopback with devsig on; `autoLogin` names whose tokens `token()` gets. */
export async function devsigWorld(patch: Partial<OpConfig> = {}): Promise<DevsigWorld> {
  const now = { value: Date.UTC(2030, 0, 1, 12, 0, 5) }
  const clock = { now: () => now.value }
  const store = createMemoryOpStore({ clock })
  const mfa = createMfa({
    store: createMemoryCredentialStore({ clock }),
    secret: 'op-mfa-test-secret-at-least-32-bytes!!',
    issuer: 'Test OP',
    clock,
  })
  let handler: (r: Request) => Promise<Response> = async () => new Response(null, { status: 503 })
  const server: Server = await serve((r) => handler(r), { host: '127.0.0.1', port: 0 })
  const issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  const make = (autoLogin: string) =>
    createOp({
      issuer,
      store,
      clock,
      mfa,
      logger: { warn() {}, error() {} },
      dangerouslyAutoLogin: autoLogin,
      devsig: {},
      clients: [
        {
          client_id: 'app',
          token_endpoint_auth_method: 'none',
          redirect_uris: [CB],
          grant_types: ['authorization_code'],
          skip_consent: true,
        },
      ],
      accounts: [
        { username: 'alice', password: 'wonderland', sub: 'alice', claims: {} },
        { username: 'bob', password: 'builder', sub: 'bob', claims: {} },
      ],
      ...patch,
    })
  const ops = { alice: await make('alice'), bob: await make('bob') }
  handler = (r) => ops.alice.handler(r)
  const post = async (path: string, form: Record<string, string>, headers = {}) => {
    const response = await fetch(`${issuer}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(form),
    })
    const text = await response.text()
    let body: Record<string, unknown> = {}
    try {
      body = JSON.parse(text) as Record<string, unknown>
    } catch {}
    return { status: response.status, headers: response.headers, text, body }
  }
  return {
    issuer,
    op: ops.alice,
    now,
    clock,
    store,
    mfa,
    async token(sub = 'alice', dpop) {
      const op = sub === 'bob' ? ops.bob : ops.alice
      handler = (r) => op.handler(r)
      const url = new URL(`${issuer}/authorize`)
      url.search = new URLSearchParams({
        response_type: 'code',
        client_id: 'app',
        redirect_uri: CB,
        scope: 'openid',
        code_challenge: await s256(VERIFIER),
        code_challenge_method: 'S256',
      }).toString()
      const auth = await fetch(url, { redirect: 'manual' })
      const code = new URL(auth.headers.get('location') ?? '').searchParams.get('code') ?? ''
      const proof = dpop
        ? { dpop: await createDpopProof(dpop, { method: 'POST', url: `${issuer}/token` }, clock) }
        : undefined
      const answer = await post(
        '/token',
        {
          grant_type: 'authorization_code',
          code,
          redirect_uri: CB,
          code_verifier: VERIFIER,
          client_id: 'app',
        },
        proof,
      )
      handler = (r) => ops.alice.handler(r)
      assert.equal(answer.status, 200, answer.text)
      return answer.body.access_token as string
    },
    post,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

/** Challenge + proof + enroll; returns the enroll answer. */
export async function enroll(
  w: DevsigWorld,
  token: string,
  key: DpopKey,
  extra: Record<string, string> = {},
): Promise<Answer> {
  const challenge = await w.post('/devsig/challenge', {}, bearer(token))
  assert.equal(challenge.status, 200, challenge.text)
  const proof = await createEnrollmentProof(
    key,
    { challenge: challenge.body.challenge as string, issuer: w.issuer },
    w.clock,
  )
  return w.post('/devsig/enroll', { proof, ...extra }, bearer(token))
}

export function assertError(answer: Answer, status: number, error: string, secrets: string[] = []) {
  assert.equal(answer.status, status, answer.text)
  assert.equal(answer.body.error, error)
  assert.equal(answer.headers.get('cache-control'), 'no-store')
  assert.equal(answer.body.attestation, undefined)
  for (const secret of secrets)
    for (const part of secret.split('.').filter((p) => p.length >= 8))
      assert.ok(!answer.text.includes(part), 'the answer echoes the input')
}
