/**
 * The built-in login and consent pages: plain HTML forms (fields `username`, `password`,
 * `csrf`), every echoed value escaped, no script.
 *
 * @module
 */
import { escapeHtml, page } from '../../http/html.ts'

const SCOPE_TEXT: Record<string, string> = {
  openid: 'Sign you in',
  profile: 'See your name and profile',
  email: 'See your email address',
  offline_access: 'Stay signed in (refresh tokens)',
}

/** The login form. */
export function loginPage(args: {
  action: string
  csrf: string
  clientName: string
  username?: string | undefined
  error?: string | undefined
}): string {
  return page(
    'Sign in',
    `<h1>Sign in</h1>
<p><small>to continue to <strong>${escapeHtml(args.clientName)}</strong></small></p>
${args.error ? `<p class="error" role="alert">${escapeHtml(args.error)}</p>` : ''}
<form method="post" action="${escapeHtml(args.action)}">
<input type="hidden" name="csrf" value="${escapeHtml(args.csrf)}">
<label for="username">Username</label>
<input type="text" id="username" name="username" autocomplete="username" required autofocus value="${escapeHtml(args.username ?? '')}">
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>`,
  )
}

/**
 * The consent form. For a device authorization it shows the code, so the person can check it is
 * the one on their own device (RFC 8628 §5.4: a code a phisher sent shows something else).
 */
export function consentPage(args: {
  action: string
  csrf: string
  clientName: string
  scopes: readonly string[]
  deviceCode?: string | undefined
}): string {
  const items = args.scopes.map((s) => `<li>${escapeHtml(SCOPE_TEXT[s] ?? s)}</li>`).join('')
  const device =
    args.deviceCode === undefined
      ? ''
      : `<p>A device showing the code <strong>${escapeHtml(args.deviceCode)}</strong> asks to connect. Allow it only if you started this on that device yourself.</p>`
  return page(
    'Allow access',
    `<h1>Allow access?</h1>
${device}<p><strong>${escapeHtml(args.clientName)}</strong> would like to:</p>
<ul>${items}</ul>
<form method="post" action="${escapeHtml(args.action)}">
<input type="hidden" name="csrf" value="${escapeHtml(args.csrf)}">
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny" class="secondary">Deny</button>
</form>`,
  )
}

/** An error page for requests that cannot go back to the client. */
export function errorPage(message: string): string {
  return page(
    'Sign-in error',
    `<h1>Something is wrong with this sign-in</h1><p>${escapeHtml(message)}</p>`,
  )
}
