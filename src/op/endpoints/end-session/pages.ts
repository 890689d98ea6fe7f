/**
 * The end-session pages: the confirmation (a form with a one-time CSRF token) and what the user
 * sees once signed out, or after choosing to stay. Every echoed value escaped, no script.
 *
 * @module
 */
import { escapeHtml, page } from '../../http/html.ts'

/** "Sign out of the OP?" with both answers. */
export function confirmPage(args: {
  action: string
  uid: string
  csrf: string
  clientName: string | undefined
}): string {
  const from = args.clientName
    ? `<p><small><strong>${escapeHtml(args.clientName)}</strong> asks to sign you out.</small></p>`
    : ''
  return page(
    'Sign out',
    `<h1>Sign out?</h1>
${from}
<p>You will be signed out of this identity provider.</p>
<form method="post" action="${escapeHtml(args.action)}">
<input type="hidden" name="uid" value="${escapeHtml(args.uid)}">
<input type="hidden" name="csrf" value="${escapeHtml(args.csrf)}">
<button type="submit" name="decision" value="logout">Sign out</button>
<button type="submit" name="decision" value="stay" class="secondary">Stay signed in</button>
</form>`,
  )
}

/**
 * The end of a logout: the clients' front-channel logout pages in invisible iframes and, when
 * the logout returns to a client, a refresh there after a moment (no script needed) with a link.
 */
export function signedOutPage(frames: readonly string[] = [], next?: string): string {
  const iframes = frames
    .map(
      (src) =>
        `<iframe src="${escapeHtml(src)}" title="signing out" width="0" height="0" style="border:0;position:absolute" aria-hidden="true"></iframe>`,
    )
    .join('\n')
  const onward =
    next === undefined
      ? '<p>You can close this window.</p>'
      : `<meta http-equiv="refresh" content="2;url=${escapeHtml(next)}"><p><a href="${escapeHtml(next)}">Continue</a></p>`
  return page('Signed out', `<h1>You are signed out</h1>${onward}${iframes}`)
}

/** The user chose to stay signed in. */
export function stayedPage(): string {
  return page('Still signed in', '<h1>You are still signed in</h1><p>Nothing was changed.</p>')
}

/** A sign-out request the OP refuses (nothing was changed). */
export function signOutErrorPage(message: string): string {
  return page(
    'Sign-out error',
    `<h1>This sign-out cannot go ahead</h1><p>${escapeHtml(message)}</p>`,
  )
}
