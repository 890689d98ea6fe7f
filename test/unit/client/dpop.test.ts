// The client's DPoP plumbing: a token response saying DPoP is taken only when a proof was sent
// (and keeps the key); a server nonce is learnt per origin and a use_dpop_nonce answer is
// retried exactly once with a fresh proof carrying it; nonces that are not NQCHAR are ignored.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { decodeJwt, decodeProtectedHeader } from 'jose'
import { asksForNonce, type DpopContext, learnNonce, withDpop } from '../../../src/client/dpop.ts'
import type { HttpResponse } from '../../../src/client/http.ts'
import { processTokenResponse } from '../../../src/client/tokens.ts'
import { generateDpopKey } from '../../../src/dpop/index.ts'

const clock = { now: () => 1_800_000_000_000 }
const json = (
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): HttpResponse => ({
  status,
  headers: new Headers({ 'content-type': 'application/json', ...headers }),
  body: new TextEncoder().encode(JSON.stringify(body)),
})
const context = async (): Promise<DpopContext> => ({
  key: await generateDpopKey(),
  nonces: new Map(),
  clock,
})

describe('client DPoP', () => {
  it('token_type DPoP: refused without a proof, kept with the key with one; Bearer stays Bearer', async () => {
    const deps = { clock, scopeSeparator: ' ' }
    const dpopBody = json(200, { access_token: 'at', token_type: 'DPoP', expires_in: 60 })
    assert.throws(
      () => processTokenResponse(dpopBody, deps),
      (err: { code?: string }) => err.code === 'token_response_invalid',
    )
    const ctx = await context()
    const bound = processTokenResponse(dpopBody, { ...deps, dpop: ctx })
    assert.equal(bound.tokenType, 'DPoP')
    assert.equal(bound.dpopKey, ctx.key)
    const bearer = processTokenResponse(json(200, { access_token: 'at', token_type: 'bearer' }), {
      ...deps,
      dpop: ctx,
    })
    assert.equal(bearer.tokenType, 'Bearer')
    assert.equal(bearer.dpopKey, undefined)
    assert.throws(() =>
      processTokenResponse(json(200, { access_token: 'at', token_type: 'mac' }), {
        ...deps,
        dpop: ctx,
      }),
    )
  })

  it('retries a use_dpop_nonce answer once with the nonce, and remembers it for the origin', async () => {
    const ctx = await context()
    const url = new URL('https://as.example/token')
    const sent: string[] = []
    const response = await withDpop(ctx, 'POST', url, undefined, async ({ dpop }) => {
      sent.push(dpop ?? '')
      return sent.length === 1
        ? json(400, { error: 'use_dpop_nonce' }, { 'dpop-nonce': 'n-1' })
        : json(200, { ok: true }, { 'dpop-nonce': 'n-1' })
    })
    assert.equal(response.status, 200)
    assert.equal(sent.length, 2)
    assert.equal(decodeJwt(sent[0] ?? '').nonce, undefined)
    assert.equal(decodeJwt(sent[1] ?? '').nonce, 'n-1')
    assert.equal(decodeProtectedHeader(sent[1] ?? '').typ, 'dpop+jwt')
    assert.notEqual(decodeJwt(sent[0] ?? '').jti, decodeJwt(sent[1] ?? '').jti)
    assert.equal(ctx.nonces.get('https://as.example'), 'n-1')

    // A server asking again and again gets exactly one retry.
    let calls = 0
    const stubborn = await withDpop(ctx, 'POST', url, undefined, async () => {
      calls++
      return json(400, { error: 'use_dpop_nonce' }, { 'dpop-nonce': `n-${calls + 1}` })
    })
    assert.equal(stubborn.status, 400)
    assert.equal(calls, 2)
  })

  it('a resource server 401 DPoP challenge asks for a nonce; other answers do not; bad nonces are ignored', async () => {
    const h = (v: string) => new Headers({ 'www-authenticate': v })
    assert.ok(asksForNonce(401, h('DPoP error="use_dpop_nonce", error_description="x"')))
    assert.ok(!asksForNonce(401, h('Bearer error="invalid_token"')))
    assert.ok(!asksForNonce(400, new Headers(), new TextEncoder().encode('not json')))
    const ctx = await context()
    const url = new URL('https://rs.example/x')
    assert.equal(learnNonce(ctx, url, new Headers({ 'dpop-nonce': 'has "quote"' })), undefined)
    assert.equal(learnNonce(ctx, url, new Headers({ 'dpop-nonce': 'x'.repeat(600) })), undefined)
    assert.equal(ctx.nonces.size, 0)
    for (let i = 0; i < 150; i++)
      learnNonce(ctx, new URL(`https://h${i}.example/`), new Headers({ 'dpop-nonce': 'n' }))
    assert.ok(ctx.nonces.size <= 100)
  })
})
