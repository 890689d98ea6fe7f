/**
 * Front-Channel Logout 1.0 on the OP (§3, §4): when a session ends in the browser, the page
 * that says so loads each client's `frontchannel_logout_uri` in an iframe, with `iss` and `sid`
 * added when the client asked for them (any query the URI has is kept). The page's CSP lets it
 * frame those origins and nothing else.
 *
 * @module
 */
import type { SessionClient } from './notifier.ts'

/** The URLs to load, one per client that used the session and registered one. */
export function frontchannelUrls(
  clients: readonly SessionClient[],
  sid: string,
  issuer: string,
): string[] {
  const urls: string[] = []
  for (const { client } of clients) {
    if (client.frontchannelLogoutUri === undefined) continue
    const url = new URL(client.frontchannelLogoutUri)
    if (client.frontchannelLogoutSessionRequired) {
      url.searchParams.set('iss', issuer)
      url.searchParams.set('sid', sid)
    }
    urls.push(url.href)
  }
  return urls
}
