/**
 * An OP runtime with clients a test chooses (signing algorithms, refresh policies), a movable
 * clock and alice; codes stored as the authorization endpoint stores them, and token requests
 * through the real token endpoint.
 */
import { Pkce } from '../../../src/core/pkce.ts'
import { randomToken } from '../../../src/core/random.ts'
import type { OpClientConfig, OpConfig } from '../../../src/op/config.ts'
import { tokenEndpoint as tokenEndpointOp } from '../../../src/op/endpoints/token/index.ts'
import { type OpRuntime, setupOp } from '../../../src/op/setup.ts'
import { createMemoryOpStore } from '../../../src/op/store/memory.ts'
import type { OpStore } from '../../../src/op/store/types.ts'
import { secretId } from '../../../src/op/tokens/secrets.ts'
import { basicHeader, ISSUER, REDIRECT, START, type TestClock } from './op-fixture.ts'
import { web } from './web-endpoint.ts'

const tokenEndpoint = web(tokenEndpointOp)
export const SUB = 'alice-sub'

/** A running OP of these clients. */
export interface PolicyOp {
  readonly runtime: OpRuntime
  readonly store: ReturnType<typeof createMemoryOpStore>
  readonly clock: TestClock
  readonly warnings: string[]
  /** A token request as `client_id` (Basic with its secret when it has one). */
  token(
    clientId: string,
    fields: Record<string, string>,
  ): Promise<{ status: number; text: string; body: Record<string, unknown> }>
  /** Stores a code for `clientId` and redeems it: the token response. */
  signIn(clientId: string, scopes?: readonly string[]): Promise<Record<string, unknown>>
  close(): void
}

/** Builds the OP; client secrets are taken from the client configs. */
export async function policyOp(
  clients: readonly OpClientConfig[],
  extra: Partial<OpConfig> = {},
  /** What the OP sees of the store (e.g. a slower one); `store` stays the memory store. */
  wrap: (store: OpStore) => OpStore = (s) => s,
): Promise<PolicyOp> {
  let now = START
  const clock: TestClock = {
    now: () => now,
    advance(seconds) {
      now += seconds * 1000
    },
  }
  const warnings: string[] = []
  const store = createMemoryOpStore({ clock })
  const runtime = await setupOp({
    issuer: ISSUER,
    store: wrap(store),
    clock,
    logger: { warn: (m) => warnings.push(m), error() {} },
    clients,
    accounts: [{ username: 'alice', password: 'pw', sub: SUB, claims: { name: 'Alice' } }],
    ...extra,
  })
  const secrets = new Map(clients.map((c) => [c.client_id, c.client_secret]))
  async function token(clientId: string, fields: Record<string, string>) {
    const secret = secrets.get(clientId)
    const request = new Request(runtime.settings.urls.token, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...(secret === undefined ? {} : { authorization: basicHeader(clientId, secret) }),
      },
      body: new URLSearchParams({
        ...(secret === undefined ? { client_id: clientId } : {}),
        ...fields,
      }),
    })
    const response = await tokenEndpoint(request, runtime)
    const text = await response.text()
    return { status: response.status, text, body: JSON.parse(text) as Record<string, unknown> }
  }
  return {
    runtime,
    store,
    clock,
    warnings,
    token,
    async signIn(clientId, scopes = ['openid', 'profile', 'offline_access']) {
      const code = randomToken(32)
      const grantId = randomToken(16)
      const { codeVerifier, codeChallenge } = await Pkce.generate()
      await store.set(
        'code',
        await secretId(code),
        {
          grantId,
          clientId,
          sub: SUB,
          scopes,
          authTime: Math.floor(clock.now() / 1000) - 5,
          redirectUri: REDIRECT,
          nonce: 'nonce-0123456789abcdefghij',
          codeChallenge,
          codeChallengeMethod: 'S256',
        },
        { ttlSeconds: 60, family: grantId },
      )
      const result = await token(clientId, {
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT,
        code_verifier: codeVerifier,
      })
      if (result.status !== 200) throw new Error(`code exchange failed: ${result.text}`)
      return result.body
    },
    close: () => store.close(),
  }
}
