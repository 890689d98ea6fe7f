// The demo in a real browser (Chromium, headless, via playwright-core): sign in through the OP's
// login form, land on alice's profile, open the flow inspector, sign in to the second app (Notes)
// by single sign-on, sign out of one app only, then out of Authkestra ID from each app in turn
// (the other app's session ends over the back channel), sign out; then add a passkey from the
// profile (a CDP virtual authenticator) and step up with it for the sensitive page. Screenshots go to
// test-artifacts/. Skipped, with the reason, when /usr/bin/chromium is not installed.
import assert from 'node:assert/strict'
import { mkdirSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import { addVirtualAuthenticator, chromiumSkip, launchChromium } from '../helpers/chromium.ts'
import { type DemoProcess, startDemo } from './helpers/demo-process.ts'

const ARTIFACTS = new URL('../../test-artifacts/', import.meta.url).pathname
const skip = chromiumSkip

describe('the demo in Chromium', { skip }, () => {
  let demo: DemoProcess
  let browser: Browser
  let page: Page
  const cspViolations: string[] = []

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true })
    demo = await startDemo()
    browser = await launchChromium()
    page = await browser.newPage({ viewport: { width: 1100, height: 800 } })
    page.on('console', (message) => {
      if (/Content.Security.Policy/i.test(message.text())) cspViolations.push(message.text())
    })
  })
  after(async () => {
    await browser?.close()
    await demo?.stop()
  })

  it('shows the sign-in button on the home page', async () => {
    await page.goto(demo.origin)
    const button = page.getByRole('link', { name: 'Sign in with Authkestra ID' })
    assert.equal(await button.getAttribute('href'), '/auth/login/authkestra?returnTo=/profile')
    // The stylesheet applied (served from /assets, allowed by the CSP).
    const background = await page.$eval('body', (b) => getComputedStyle(b).backgroundColor)
    assert.equal(background, 'rgb(244, 245, 248)')
    await page.screenshot({ path: `${ARTIFACTS}demo-home.png`, fullPage: true })
  })

  it('signs in through the OP login form and lands on the profile', async () => {
    await page.getByRole('link', { name: 'Sign in with Authkestra ID' }).click()
    await page.waitForURL(/\/oidc\/interaction\//)
    assert.equal(await page.title(), 'Sign in')
    await page.getByLabel('Username').fill('alice')
    await page.getByLabel('Password').fill('wonderland')
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
    await page.waitForURL(`${demo.origin}/profile`)
    assert.equal(await page.locator('h1').textContent(), 'Alice Liddell')
    assert.match(
      (await page.locator('.email').textContent()) ?? '',
      /alice@example\.com\s+verified/,
    )
    const claims = await page.locator('table.kv tbody tr').allTextContents()
    assert.ok(claims.some((row) => /^email_verified\s*true/.test(row)))
    await page.screenshot({ path: `${ARTIFACTS}demo-profile.png`, fullPage: true })
  })

  it('shows the PKCE proof in the flow inspector', async () => {
    await page.getByRole('link', { name: 'Flow inspector' }).click()
    await page.waitForURL(`${demo.origin}/inspector`)
    const challenge = await page
      .locator('#step-1 tr.highlight', { hasText: 'code_challenge' })
      .first()
      .locator('td code')
      .textContent()
    assert.match(challenge ?? '', /^[A-Za-z0-9_-]{43}$/)
    const method = await page
      .locator('#step-1 tr.highlight', { hasText: 'code_challenge_method' })
      .locator('td code')
      .textContent()
    assert.equal(method, 'S256')
    const proof = page.locator('#step-3 .proof')
    assert.equal(await proof.getAttribute('class'), 'proof ok')
    assert.match((await proof.locator('h3').textContent()) ?? '', /PKCE check ✓/)
    const values = await proof.locator('dd code').allTextContents()
    assert.equal(values[1], challenge, 'computed now = the challenge of step 1')
    assert.equal(values[2], challenge)
    await page.screenshot({ path: `${ARTIFACTS}demo-inspector.png`, fullPage: true })
  })

  it('fits a 390 px wide phone screen: no page scrolls sideways', async () => {
    await page.setViewportSize({ width: 390, height: 844 })
    try {
      for (const path of ['/', '/profile', '/inspector', '/notes']) {
        await page.goto(`${demo.origin}${path}`)
        const width = await page.evaluate(() => document.documentElement.scrollWidth)
        assert.ok(width <= 390, `${path} is ${width} px wide`)
      }
      await page.goto(`${demo.origin}/inspector`)
      await page.screenshot({ path: `${ARTIFACTS}demo-inspector-390.png`, fullPage: true })
    } finally {
      await page.setViewportSize({ width: 1100, height: 800 })
    }
  })

  /** Reloads `page` until `locator` reads `text`: a back-channel logout lands a moment later. */
  async function eventually(path: string, selector: string, text: RegExp): Promise<string> {
    let seen = ''
    for (let i = 0; i < 50; i++) {
      await page.goto(`${demo.origin}${path}`)
      seen = (await page.locator(selector).textContent()) ?? ''
      if (text.test(seen)) return seen
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    return seen
  }

  /** From a page with the sign-in button: Authkestra ID asks for the password (no OP session). */
  const signInWithPassword = async () => {
    await page.getByRole('link', { name: 'Sign in with Authkestra ID' }).click()
    await page.waitForURL(/\/oidc\/interaction\//)
    await page.getByLabel('Username').fill('alice')
    await page.getByLabel('Password').fill('wonderland')
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
    await page.waitForURL(`${demo.origin}/profile`)
  }

  const signInToNotes = async () => {
    await page.goto(`${demo.origin}/notes`)
    await page.getByRole('link', { name: 'Sign in to Notes with Authkestra ID' }).click()
    await page.waitForURL(`${demo.origin}/notes`)
    assert.match(
      (await page.locator('.notes-status').textContent()) ?? '',
      /Signed in to Notes as Alice Liddell/,
    )
  }

  it('signs in to Notes, the second app, with no password: single sign-on at Authkestra ID', async () => {
    await signInToNotes()
    assert.equal(await page.locator('.app-status').textContent(), 'signed in as Alice Liddell')
    await page.screenshot({ path: `${ARTIFACTS}demo-notes.png`, fullPage: true })
  })

  it('signs out of Notes only: the demo app and Authkestra ID stay signed in', async () => {
    await page.getByRole('button', { name: 'Sign out of Notes' }).click()
    await page.waitForURL(`${demo.origin}/`)
    assert.equal(await page.locator('.who-name').textContent(), 'Alice Liddell')
    await page.goto(`${demo.origin}/notes`)
    assert.equal(await page.locator('.notes-status').textContent(), 'Signed out of Notes.')
    await signInToNotes() // no password asked: the OP session is still there
  })

  it('signs out of Authkestra ID from the demo app: Notes is signed out too (single logout)', async () => {
    await page.goto(`${demo.origin}/profile`)
    await page.getByRole('button', { name: 'Sign out of Authkestra ID too' }).click()
    await page.waitForURL(`${demo.origin}/`)
    assert.equal(await page.locator('.who').textContent(), 'Signed out')
    assert.equal(
      await eventually('/notes', '.notes-status', /Signed out of Notes/),
      'Signed out of Notes.',
      'Authkestra ID told Notes over the back channel',
    )
    await page.screenshot({ path: `${ARTIFACTS}demo-single-logout.png`, fullPage: true })
    // The OP session is gone: signing in again asks for the password.
    await page.goto(demo.origin)
    await signInWithPassword()
  })

  it('signs out of Authkestra ID from Notes: the demo app is signed out too', async () => {
    await signInToNotes()
    await page.getByRole('button', { name: 'Sign out of Authkestra ID too' }).click()
    await page.waitForURL(`${demo.origin}/`)
    assert.equal(
      await eventually('/', '.who', /Signed out/),
      'Signed out',
      'Authkestra ID told the demo app over the back channel',
    )
    await signInWithPassword()
  })

  it('signs out with the header form', async () => {
    await page.locator('header').getByRole('button', { name: 'Sign out' }).click()
    await page.waitForURL(`${demo.origin}/`)
    await page.getByRole('link', { name: 'Sign in with Authkestra ID' }).waitFor()
    assert.equal(await page.locator('.who').textContent(), 'Signed out')
    await page.goto(`${demo.origin}/profile`)
    assert.equal(page.url(), `${demo.origin}/`, 'the profile sends a signed-out visitor home')
    assert.deepEqual(cspViolations, [], 'no Content-Security-Policy violations')
  })

  it('adds a passkey from the profile, then the sensitive page steps up with it', async () => {
    const cdp = await page.context().newCDPSession(page)
    await cdp.send('WebAuthn.enable', { enableUI: false })
    await addVirtualAuthenticator(cdp)
    // Still signed in at Authkestra ID: single sign-on back to the profile.
    await page.goto(demo.origin)
    await page.getByRole('link', { name: 'Sign in with Authkestra ID' }).click()
    await page.waitForURL(`${demo.origin}/profile`)
    await page.getByRole('link', { name: 'Add a passkey or an authenticator app' }).click()
    await page.waitForURL(`${demo.origin}/oidc/account`)
    await page.getByRole('button', { name: 'Add a passkey' }).click()
    await page.waitForSelector('text=Passkey added')
    await page.screenshot({ path: `${ARTIFACTS}demo-account.png`, fullPage: true })
    // The sensitive page wants mfa: back through Authkestra ID, which asks for the passkey only.
    await page.goto(`${demo.origin}/sensitive`)
    await page.waitForSelector('text=Confirm it’s you')
    assert.equal(await page.getByLabel('Password').count(), 0, 'no password again')
    await page.getByRole('button', { name: 'Use a passkey' }).click()
    await page.waitForURL(`${demo.origin}/sensitive`)
    const facts = await page.locator('dl.facts dd').allTextContents()
    // The first level asked for (acr: ['mfa', 'phr']) that the login met.
    assert.equal(facts[0], 'mfa')
    assert.match(facts[1] ?? '', /^pwd hwk mfa$/)
    await page.screenshot({ path: `${ARTIFACTS}demo-sensitive.png`, fullPage: true })
    assert.deepEqual(cspViolations, [], 'no Content-Security-Policy violations')
  })
})
