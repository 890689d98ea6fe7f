// Device-bound request signatures end to end: alice signs in at our OP through its login form
// (a real browser flow, PKCE), the app enrols a device key with the client helper
// (enrollDevice: challenge, proof, attestation), and calls an API on loopback guarded by
// devsig() with the signer's headers, over real HTTP. The same request replayed, with its body
// or query changed, or signed by a stolen attestation's wrong key, is refused with its code. No
// certified peer implements devsig: jose verifies the attestation independently instead.
import assert from 'node:assert/strict'
import type { Server } from 'node:http'
import { after, before, describe, it } from 'node:test'
import { createLocalJWKSet, jwtVerify } from 'jose'
import { createDevsigSigner, enrollDevice } from '../../src/client/index.ts'
import { serve } from '../../src/dev-idp/serve.ts'
import { generateDpopKey } from '../../src/dpop/index.ts'
import { devsig } from '../../src/index.ts'
import { Browser } from '../op/helpers/browser.ts'
import { testOp, WEB_REDIRECT } from '../op/helpers/op-setup.ts'
import { signIn } from '../op/helpers/sign-in.ts'

const API = 'https://api.example'

describe('devsig end to end: sign in, enrol, call a guarded API', () => {
  let server: Server
  let origin: string
  let world: Awaited<ReturnType<typeof testOp>>
  let opFetch: typeof fetch
  let metadata: Record<string, unknown>

  before(async () => {
    world = await testOp({ devsig: { attestationTtlSeconds: 600 } })
    const { op } = world
    opFetch = ((input: string | URL | Request, init?: RequestInit) =>
      op.handler(new Request(input, init))) as typeof fetch
    metadata = op.metadata()
    const guard = devsig({
      issuer: op.issuer,
      audience: API,
      fetch: opFetch,
      logger: { warn() {} },
    })
    server = await serve(
      async (request) => {
        const result = await guard(request)
        if (!result.ok) return result.response
        const body = await request.text()
        return Response.json({ sub: result.principal.subject, echo: body.length })
      },
      { host: '127.0.0.1', port: 0 },
    )
    origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  })
  after(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  )

  it('a signed request passes once; tampering, replay and a wrong key do not', async () => {
    const browser = new Browser(world.op.handler)
    const { access_token } = await signIn(world.op, browser, 'first', WEB_REDIRECT)
    const key = await generateDpopKey()
    const { attestation, expiresIn } = await enrollDevice({
      metadata,
      accessToken: access_token,
      key,
      fetch: opFetch,
      // The test OP's clock stands still; the proof must be fresh by that clock, however long
      // the sign-in took on a loaded machine.
      clock: { now: () => world.now.value },
    })
    assert.equal(expiresIn, 600)
    const jwks = (await (await opFetch(`${world.op.issuer}/jwks`)).json()) as never
    const { payload } = await jwtVerify(attestation, createLocalJWKSet(jwks), {
      issuer: world.op.issuer,
      typ: 'devsig-attestation+jwt',
    })
    assert.deepEqual(payload.cnf, { jkt: key.thumbprint })

    const signer = createDevsigSigner({ key, attestation, audience: API })
    // the guard compares the path and query of the URL it sees, so the client signs that URL
    const url = `${origin}/transfers?to=bob`
    const body = JSON.stringify({ amount: 10 })
    const headers = await signer.sign({ method: 'POST', url, body })
    const call = (target: string, b: string, h: Record<string, string>) =>
      fetch(target, {
        method: 'POST',
        headers: { ...h, 'content-type': 'application/json' },
        body: b,
      })

    const ok = await call(url, body, headers)
    assert.equal(ok.status, 200)
    assert.deepEqual(await ok.json(), {
      sub: (await world.store.get('username', 'alice'))?.sub,
      echo: body.length,
    })

    const codeOf = async (response: Response) => {
      assert.equal(response.status, 401)
      const text = await response.text()
      assert.ok(!text.includes(attestation.split('.')[1] as string))
      return (JSON.parse(text) as { error: string }).error
    }
    assert.equal(await codeOf(await call(url, body, headers)), 'replayed')
    const fresh = () => signer.sign({ method: 'POST', url, body })
    assert.equal(await codeOf(await call(url, '{"amount":1000}', await fresh())), 'body_mismatch')
    assert.equal(
      await codeOf(await call(`${origin}/transfers?to=eve`, body, await fresh())),
      'query_mismatch',
    )
    const thief = createDevsigSigner({ key: await generateDpopKey(), attestation, audience: API })
    assert.equal(
      await codeOf(await call(url, body, await thief.sign({ method: 'POST', url, body }))),
      'key_mismatch',
    )
    assert.equal(await codeOf(await fetch(url, { method: 'POST', body })), 'attestation_missing')
  })
})
