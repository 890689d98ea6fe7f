// Signing alice in at a test OP through its forms and exchanging the code, and checking whether a
// browser still has a live OP session (a prompt=none authorization gets a code).
import assert from 'node:assert/strict'
import type { Op } from '../../../src/op/create-op.ts'
import { actionOf, authorizationUrl, type Browser, csrfOf } from './browser.ts'

/** Signs alice in through `clientId` (a public client at `callback`); returns its tokens. */
export async function signIn(
  op: Op,
  browser: Browser,
  clientId: string,
  callback: string,
): Promise<{ id_token: string; access_token: string }> {
  const auth = await authorizationUrl(op.issuer, { client_id: clientId, redirect_uri: callback })
  let response = await browser.get(auth.url)
  if (!(response.headers.get('location') ?? '').startsWith(callback)) {
    const page = await browser.get(response.headers.get('location') ?? '')
    const html = await page.text()
    response = await browser.post(actionOf(html), {
      username: 'alice',
      password: 'wonderland',
      csrf: csrfOf(html),
    })
  }
  const code = new URL(response.headers.get('location') ?? '').searchParams.get('code') ?? ''
  return redeemCode(op, code, clientId, callback, auth.verifier)
}

/** Exchanges a code of public client `clientId` at the token endpoint (PKCE verifier given). */
export async function redeemCode(
  op: Op,
  code: string,
  clientId: string,
  callback: string,
  verifier: string,
): Promise<{ id_token: string; access_token: string }> {
  const token = await op.handler(
    new Request(`${op.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: callback,
        client_id: clientId,
        code_verifier: verifier,
      }),
    }),
  )
  assert.equal(token.status, 200)
  return (await token.json()) as { id_token: string; access_token: string }
}

/** Whether `browser` has a live OP session for `clientId` (prompt=none gets a code). */
export async function signedIn(
  op: Op,
  browser: Browser,
  clientId: string,
  callback: string,
): Promise<boolean> {
  const auth = await authorizationUrl(op.issuer, {
    client_id: clientId,
    redirect_uri: callback,
    prompt: 'none',
  })
  const response = await browser.get(auth.url)
  return new URL(response.headers.get('location') ?? '').searchParams.has('code')
}
