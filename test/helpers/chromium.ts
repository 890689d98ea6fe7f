// Chromium for browser tests: where it is, the reason a suite is skipped without it, how it is
// launched headless on this machine, and a CDP virtual WebAuthn authenticator for passkeys.
import { existsSync } from 'node:fs'
import { type Browser, type CDPSession, chromium } from 'playwright-core'

export const CHROMIUM = '/usr/bin/chromium'

/** `false`, or why a Chromium suite is skipped. */
export const chromiumSkip: string | false = existsSync(CHROMIUM)
  ? false
  : `no Chromium at ${CHROMIUM} (install it with: apt-get install -y chromium)`

/** Headless Chromium with no network of its own (this machine's is closed). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
}

/**
 * Adds a platform authenticator that keeps discoverable credentials and verifies the user, and
 * answers every ceremony itself; returns its id. Call `WebAuthn.enable` on `cdp` first.
 */
export async function addVirtualAuthenticator(cdp: CDPSession): Promise<string> {
  const added = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  })
  return added.authenticatorId
}
