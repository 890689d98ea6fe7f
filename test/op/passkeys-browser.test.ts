// Passkeys in real Chromium against the dev IdP (its OP runs with mfa), with a CDP virtual
// authenticator: enroll a passkey on the account page, sign in with it alone (usernameless), use
// it as the second factor after the password, and a cloned authenticator (same key, counter set
// back) refused. Skipped, with the reason, when /usr/bin/chromium is missing.
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { decodeJwt } from 'jose'
import type { Browser, CDPSession, Page } from 'playwright-core'
import { Pkce } from '../../src/core/pkce.ts'
import { type RunningDevIdp, startDevIdp } from '../../src/dev-idp/cli.ts'
import { addVirtualAuthenticator, chromiumSkip, launchChromium } from '../helpers/chromium.ts'
import { freePort } from '../helpers/net.ts'

const skip = chromiumSkip

describe('passkeys in Chromium', { skip }, () => {
  let idp: RunningDevIdp
  let browser: Browser
  let page: Page
  let cdp: CDPSession
  let authenticatorId = ''
  let callbackServer: Server
  let CALLBACK = ''

  const authenticator = () => addVirtualAuthenticator(cdp)

  /** Opens an authorization; answers the PKCE verifier. */
  async function authorize(extra: Record<string, string> = {}) {
    const pkce = await Pkce.generate()
    const url = new URL(`${idp.issuer}/authorize`)
    for (const [k, v] of Object.entries({
      client_id: 'app',
      redirect_uri: CALLBACK,
      response_type: 'code',
      scope: 'openid profile',
      state: 'state-1234567890abcdef',
      code_challenge: pkce.codeChallenge,
      code_challenge_method: 'S256',
      ...extra,
    }))
      url.searchParams.set(k, v)
    await page.goto(url.href)
    return pkce.codeVerifier
  }

  /** Waits for the redirect to the client and redeems its code; answers the ID token's claims. */
  async function redeemed(verifier: string) {
    await page.waitForURL((u) => u.href.startsWith(CALLBACK))
    const code = new URL(page.url()).searchParams.get('code')
    assert.ok(code, `no code in ${page.url()}`)
    const token = await fetch(`${idp.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: CALLBACK,
        client_id: 'app',
        code_verifier: verifier,
      }),
    })
    assert.equal(token.status, 200)
    return decodeJwt(((await token.json()) as { id_token: string }).id_token)
  }

  before(async () => {
    // The client's callback: a page that says so; the test reads the code off the URL.
    callbackServer = createServer((_req, res) => res.end('callback'))
    await new Promise<void>((resolve) => callbackServer.listen(0, '127.0.0.1', resolve))
    CALLBACK = `http://localhost:${(callbackServer.address() as AddressInfo).port}/cb`
    const port = await freePort()
    const dir = mkdtempSync(join(tmpdir(), 'authkestra-passkeys-'))
    const config = join(dir, 'idp.json')
    writeFileSync(
      config,
      JSON.stringify({
        clients: [
          {
            client_id: 'app',
            redirect_uris: [CALLBACK],
            token_endpoint_auth_method: 'none',
            skip_consent: true,
          },
        ],
        users: [{ username: 'alice', password: 'wonderland', claims: { name: 'Alice' } }],
      }),
    )
    const running = await startDevIdp(
      ['--port', String(port), '--issuer', `http://localhost:${port}`, '--config', config],
      { out: () => {}, err: () => {} },
    )
    assert.ok(running)
    idp = running
    browser = await launchChromium()
    page = await browser.newPage()
    cdp = await page.context().newCDPSession(page)
    await cdp.send('WebAuthn.enable', { enableUI: false })
    authenticatorId = await authenticator()
  })

  after(async () => {
    await browser?.close()
    await idp?.close()
    callbackServer?.close()
  })

  it('enrolls a passkey from the account page after a password sign-in', async () => {
    const verifier = await authorize()
    await page.fill('#username', 'alice')
    await page.fill('#password', 'wonderland')
    await page.click('button:has-text("Sign in")')
    const claims = await redeemed(verifier)
    assert.deepEqual(claims.amr, ['pwd'])
    await page.goto(`${idp.issuer}/account`)
    await page.fill('#passkey-name', 'Virtual key')
    await page.click('button:has-text("Add a passkey")')
    await page.waitForSelector('text=Passkey added')
    assert.ok(await page.isVisible('text=Virtual key'))
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId })
    assert.equal(credentials.length, 1)
    assert.equal(credentials[0]?.isResidentCredential, true)
  })

  it('signs in with the passkey alone (usernameless): amr hwk + mfa', async () => {
    await page.context().clearCookies()
    const verifier = await authorize()
    await page.click('button:has-text("Sign in with a passkey")')
    const claims = await redeemed(verifier)
    assert.deepEqual([claims.amr, claims.acr, claims.name], [['hwk', 'mfa'], 'phr', 'Alice'])
  })

  it('asks for the passkey after the password once one is enrolled', async () => {
    await page.context().clearCookies()
    const verifier = await authorize()
    await page.fill('#username', 'alice')
    await page.fill('#password', 'wonderland')
    await page.click('button:has-text("Sign in")')
    await page.waitForSelector('text=Confirm it’s you')
    await page.click('button:has-text("Use a passkey")')
    const claims = await redeemed(verifier)
    assert.deepEqual(claims.amr, ['pwd', 'hwk', 'mfa'])
  })

  it('refuses a cloned authenticator whose signature counter went back', async () => {
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId })
    const original = credentials[0]
    assert.ok(original && original.signCount > 0)
    await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId })
    authenticatorId = await authenticator()
    await cdp.send('WebAuthn.addCredential', {
      authenticatorId,
      credential: { ...original, signCount: 0 },
    })
    await page.context().clearCookies()
    await authorize()
    await page.click('button:has-text("Sign in with a passkey")')
    await page.waitForSelector('text=That passkey could not be used')
    assert.ok(!page.url().startsWith(CALLBACK))
    // Control: the same key with a counter past the stored one signs in.
    await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId })
    authenticatorId = await authenticator()
    await cdp.send('WebAuthn.addCredential', {
      authenticatorId,
      credential: { ...original, signCount: original.signCount + 100 },
    })
    const verifier = await authorize()
    await page.click('button:has-text("Sign in with a passkey")')
    assert.deepEqual((await redeemed(verifier)).amr, ['hwk', 'mfa'])
  })
})
