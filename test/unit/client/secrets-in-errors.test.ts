// DESIGN.md: no token, secret, verifier, code or cookie value ever appears in an error message.
// Drive failures at every stage and search every message (and its causes) for the secrets.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { inspect } from 'node:util'
import type { FlowState } from '../../../src/client/flow-state.ts'
import { openFlowState, sealFlowState } from '../../../src/client/flow-state.ts'
import { createKeyring } from '../../../src/core/keyring.ts'
import { Pkce } from '../../../src/core/pkce.ts'
import { CLIENT_SECRET, type FakeOpOptions } from '../../helpers/fake-op.ts'
import { setup } from '../../helpers/flow-setup.ts'

/** Everything a logger could print of an error: message, stack, causes, own properties. */
function messages(err: unknown): string {
  return inspect(err, { depth: 10, showHidden: true })
}

describe('secrets never appear in error messages', () => {
  const scenarios: [
    string,
    FakeOpOptions,
    (cb: URL, fs: FlowState) => Promise<[URL, FlowState]>,
  ][] = [
    ['state mismatch', {}, async (cb, fs) => [cb, { ...fs, state: 'B'.repeat(43) }]],
    [
      'wrong verifier',
      {},
      async (cb, fs) => [cb, { ...fs, codeVerifier: (await Pkce.generate()).codeVerifier }],
    ],
    [
      'bad token response',
      { tokenResponse: (b) => ({ ...b, token_type: 'mac' }) },
      async (cb, fs) => [cb, fs],
    ],
    [
      'bad ID token audience',
      { idTokenClaims: (c) => ({ ...c, aud: 'x' }) },
      async (cb, fs) => [cb, fs],
    ],
    [
      'wrong nonce',
      { idTokenClaims: (c) => ({ ...c, nonce: 'n'.repeat(43) }) },
      async (cb, fs) => [cb, fs],
    ],
    [
      'userinfo mismatch',
      { userinfo: (u) => ({ ...u, sub: 'other' }) },
      async (cb, fs) => [cb, fs],
    ],
    [
      'token error echoing the request',
      {
        tokenResponse: () =>
          new Response(JSON.stringify({ error: 'invalid_grant' }), { status: 400 }),
      },
      async (cb, fs) => [cb, fs],
    ],
  ]
  for (const [label, opOptions, mutate] of scenarios) {
    it(label, async () => {
      const issued: string[] = []
      const recordTokens = opOptions.tokenResponse
      const { op, flow } = await setup({
        ...opOptions,
        tokenResponse: async (body) => {
          issued.push(...[body.access_token, body.refresh_token, body.id_token].map(String))
          return recordTokens ? recordTokens(body) : body
        },
      })
      const start = await flow.initiateLogin()
      const callback = await op.authorize(start.url)
      const [cb, fs] = await mutate(callback, start.flowState)
      const err = await flow.finalizeLogin(cb, fs).then(
        () => assert.fail('expected a failure'),
        (e: unknown) => e,
      )
      const text = messages(err)
      const secrets = [
        start.flowState.state,
        start.flowState.nonce,
        start.flowState.codeVerifier ?? '',
        fs.state,
        fs.nonce,
        fs.codeVerifier ?? '',
        callback.searchParams.get('code') ?? '',
        CLIENT_SECRET,
        ...issued,
      ].filter((s) => s.length >= 8)
      for (const secret of secrets)
        assert.ok(!text.includes(secret), `${label}: a secret leaked into "${text}"`)
    })
  }
})

describe('secrets never appear in flow-state errors', () => {
  it('expired, tampered and wrong-provider flow states say nothing of their content', async () => {
    const keys = createKeyring('secrets-test-secret-that-is-long-enough!!')
    const { flow } = await setup()
    const { flowState } = await flow.initiateLogin({ returnTo: '/private-place' })
    let now = Date.now()
    const clock = { now: () => now }
    const sealed = await sealFlowState(flowState, { keys, clock })
    const tampered = `${sealed.slice(0, -4)}AAAA`
    // each failure is awaited before the next starts (no rejection waits unhandled)
    const attempts: (() => Promise<unknown>)[] = [
      () => openFlowState(tampered, { keys, providerId: 'fake', clock }),
      () => openFlowState(sealed, { keys, providerId: 'other', clock }),
      () => {
        now += 700_000
        return openFlowState(sealed, { keys, providerId: 'fake', clock })
      },
    ]
    for (const attempt of attempts) {
      const err = await attempt().then(
        () => assert.fail('expected a failure'),
        (e: unknown) => e,
      )
      const text = messages(err)
      for (const secret of [
        flowState.state,
        flowState.nonce,
        flowState.codeVerifier ?? '',
        '/private-place',
      ]) {
        assert.ok(!text.includes(secret), `a flow-state secret leaked into ${text}`)
      }
    }
  })
})
