// What Pushed Authorization Requests (RFC 9126) cost the server, in process on the OP's message
// path: a full login of a confidential client (client_secret_basic) with PAR — POST /par (client
// authenticated, request checked and stored), GET /authorize with only client_id and
// request_uri (redeemed once), the code exchange at /token — against the same login with the
// parameters in the URL. Automatic login and skip_consent on both, so the rows measure the
// protocol, not a login form. The OP's memory store with its sweeper, as a deployment would run.

import { createHash, randomBytes } from 'node:crypto'
import { createOp } from '../src/op/create-op.ts'
import type { OpRequest } from '../src/op/http/message.ts'
import { createMemoryOpStore } from '../src/op/store/memory.ts'
import { type Comparison, compare, opPost } from './lib.ts'

const ISSUER = 'http://127.0.0.1:9103'
const CB = 'https://rp.bench/cb'
const SECRET = 'rp-secret-0123456789abcdefghijklmnopqr'
const EMPTY = new Uint8Array()

function get(url: URL): OpRequest {
  return { method: 'GET', url, headers: new Headers(), body: async () => EMPTY }
}

export async function parBenchmarks(
  options: { rounds?: number; ms?: number } = {},
): Promise<Comparison[]> {
  const timing = { rounds: options.rounds ?? 5, ms: options.ms ?? 300 }
  const store = createMemoryOpStore()
  const op = await createOp({
    issuer: ISSUER,
    store,
    logger: { warn: () => {}, error: () => {}, info: () => {} },
    dangerouslyAutoLogin: 'alice',
    accounts: [{ username: 'alice', password: 'wonderland-bench', claims: {} }],
    clients: [{ client_id: 'rp', client_secret: SECRET, redirect_uris: [CB], skip_consent: true }],
  })
  const authorization = `Basic ${Buffer.from(`rp:${SECRET}`).toString('base64')}`

  /** One login; `push` sends the parameters to /par first. Throws on any deviation. */
  const login = async (push: boolean) => {
    const verifier = randomBytes(32).toString('base64url')
    const state = randomBytes(16).toString('base64url')
    const params = {
      response_type: 'code',
      client_id: 'rp',
      redirect_uri: CB,
      scope: 'openid',
      state,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    }
    const url = new URL(`${ISSUER}/authorize`)
    if (push) {
      const pushed = await op.handleMessage(opPost(ISSUER, '/par', params, { authorization }))
      if (pushed.status !== 201) throw new Error(`PAR: ${pushed.status} ${pushed.body}`)
      const { request_uri } = JSON.parse(pushed.body ?? '') as { request_uri: string }
      url.search = new URLSearchParams({ client_id: 'rp', request_uri }).toString()
    } else {
      url.search = new URLSearchParams(params).toString()
    }
    const redirect = await op.handleMessage(get(url))
    const location = new URL(String(redirect.headers.location ?? ''), url)
    const code = location.searchParams.get('code')
    if (code === null || location.searchParams.get('state') !== state)
      throw new Error(`authorize: ${redirect.status} ${location.href}`)
    const form = {
      grant_type: 'authorization_code',
      code,
      redirect_uri: CB,
      code_verifier: verifier,
    }
    const tokens = await op.handleMessage(opPost(ISSUER, '/token', form, { authorization }))
    if (tokens.status !== 200 || !tokens.body?.includes('"id_token"'))
      throw new Error(`token: ${tokens.status} ${tokens.body}`)
  }

  const row = await compare(
    'PAR: a confidential login pushed (/par → /authorize?request_uri → /token) (OP message path, in process)',
    ['login, parameters in the URL (/authorize → /token)', () => login(false)],
    ['login with PAR', () => login(true)],
    timing,
  )
  store.close()
  const us = (opsPerSec: number) => (1e6 / opsPerSec).toFixed(0)
  return [
    {
      ...row,
      name: `${row.name}; CPU µs/login ${us(row.baselineOpsPerSec)} → ${us(row.candidateOpsPerSec)}`,
    },
  ]
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const row of await parBenchmarks()) console.log(row)
}
