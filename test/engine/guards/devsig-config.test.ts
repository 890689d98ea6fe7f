// The devsig guard's configuration (checked at creation, the `clients` allow-list) and the
// guard on node:http, where the body bytes come as the second argument (guardRequestOf).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { devsig } from '../../../src/index.ts'
import { BODY, headersOf, refused, request, signed, silent, world } from './devsig-helpers.ts'
import { AUD, ISS, JWKS_URI } from './helpers.ts'

describe('devsig guard: configuration', () => {
  it('refuses a bad config at creation', async () => {
    const base = { issuer: ISS, jwksUri: JWKS_URI, audience: AUD }
    for (const patch of [
      { audience: [] },
      { issuer: '' },
      { maxSignatureAgeSeconds: 61 },
      { clockToleranceSeconds: -1 },
      { signatureAlgorithms: ['HS256'] },
      { attestationAlgorithms: ['none'] },
      { replay: {} },
    ]) {
      assert.throws(
        () => devsig({ ...base, ...patch } as Parameters<typeof devsig>[0]),
        (err: unknown) => (err as { code?: string }).code === 'config_invalid',
        JSON.stringify(patch),
      )
    }
  })

  it('clients: an attestation for another client is attestation_invalid', async () => {
    const w = await world()
    const guard = devsig({
      issuer: ISS,
      jwksUri: JWKS_URI,
      audience: AUD,
      clients: ['other-app'],
      fetch: w.issuer.fetch,
      clock: w.clock,
      logger: silent,
    })
    const signature = await signed(w)
    await refused(
      await guard(request(headersOf(w.attestation, signature))),
      'attestation_invalid',
      [signature],
    )
  })
})

describe('devsig guard on node:http with the raw body bytes (guardRequestOf)', () => {
  it('passes the signed request, refuses a tampered body and a body it was not given', async () => {
    const { createServer } = await import('node:http')
    const { guardRequestOf } = await import('../../../src/node/index.ts')
    const w = await world()
    const guard = devsig({
      issuer: ISS,
      jwksUri: JWKS_URI,
      audience: AUD,
      fetch: w.issuer.fetch,
      clock: w.clock,
      logger: silent,
      // the client addressed the API's public URL; this server listens on loopback
      url: (request) => `${AUD}${new URL(request.url).pathname}${new URL(request.url).search}`,
    })
    let passBody = true
    const server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', async () => {
        const request = guardRequestOf(req)
        if (!request) return void res.writeHead(400).end()
        const result = await guard(
          request,
          passBody ? new Uint8Array(Buffer.concat(chunks)) : undefined,
        )
        if (!result.ok) {
          res.writeHead(result.response.status, { 'content-type': 'application/json' })
          return void res.end(await result.response.text())
        }
        res.writeHead(200).end(result.principal.subject)
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as { port: number }).port
    const local = `http://127.0.0.1:${port}/transfers?to=bob&amount=10`
    try {
      const post = async (body: string) =>
        fetch(local, { method: 'POST', headers: headersOf(w.attestation, await signed(w)), body })
      const ok = await post(BODY)
      assert.equal(ok.status, 200)
      assert.equal(await ok.text(), 'alice')
      const tampered = await post('{"memo":"rent!"}')
      assert.equal(tampered.status, 401)
      assert.equal(((await tampered.json()) as { error: string }).error, 'body_mismatch')
      passBody = false
      const unseen = await post(BODY)
      assert.equal(((await unseen.json()) as { error: string }).error, 'body_mismatch')
    } finally {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  })
})
