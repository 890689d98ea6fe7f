/**
 * The built-in login, second-factor and consent pages: plain HTML forms (fields `username`,
 * `password`, `code`, `csrf`), every echoed value escaped; the one script (passkeys) only where a
 * passkey can be used, a bot check's widget only where one is required.
 *
 * @module
 */
import { escapeHtml, page } from '../../http/html.ts'
import { PASSKEY_SCRIPT } from './passkey-script.ts'

const SCOPE_TEXT: Record<string, string> = {
  openid: 'Sign you in',
  profile: 'See your name and profile',
  email: 'See your email address',
  offline_access: 'Stay signed in (refresh tokens)',
}

/** A form that runs a passkey ceremony (see `passkey-script.ts`) and posts its answer. */
export function passkeyForm(args: {
  mode: 'get' | 'create'
  action: string
  optionsUrl: string
  csrf: string
  label: string
  extra?: string
}): string {
  return `<form method="post" action="${escapeHtml(args.action)}" data-passkey="${args.mode}" data-options="${escapeHtml(args.optionsUrl)}">
<input type="hidden" name="csrf" value="${escapeHtml(args.csrf)}">
<input type="hidden" name="response" value="">${args.extra ?? ''}
<button type="submit">${escapeHtml(args.label)}</button>
<p><small data-status role="status"></small></p>
</form>`
}

/** The login form, with a passkey button when passkeys are on. */
export function loginPage(args: {
  action: string
  csrf: string
  clientName: string
  username?: string | undefined
  error?: string | undefined
  passkey?: { action: string; optionsUrl: string; csrf: string } | undefined
  /** A bot-check widget's markup (`captcha.ts`), inside the form before its button. */
  captcha?: string | undefined
}): string {
  const passkey = args.passkey
    ? `<hr>${passkeyForm({ mode: 'get', ...args.passkey, label: 'Sign in with a passkey' })}`
    : ''
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
${args.captcha ?? ''}<button type="submit">Sign in</button>
</form>${passkey}`,
    args.passkey ? PASSKEY_SCRIPT : '',
  )
}

/** The second step: a code (TOTP or recovery) and/or a passkey, as the account has them. */
export function secondFactorPage(args: {
  clientName: string
  error?: string | undefined
  code?: { action: string; csrf: string; totp: boolean; recovery: boolean } | undefined
  passkey?: { action: string; optionsUrl: string; csrf: string } | undefined
}): string {
  const { code, passkey } = args
  const label =
    code?.totp && code.recovery
      ? 'Code from your authenticator app, or a recovery code'
      : code?.totp
        ? 'Code from your authenticator app'
        : 'A recovery code'
  const codeForm = code
    ? `<form method="post" action="${escapeHtml(code.action)}">
<input type="hidden" name="csrf" value="${escapeHtml(code.csrf)}">
<label for="code">${label}</label>
<input type="text" id="code" name="code" autocomplete="one-time-code" inputmode="text" required autofocus maxlength="32">
<button type="submit">Continue</button>
</form>`
    : ''
  const passkeyPart = passkey
    ? `${code ? '<hr>' : ''}${passkeyForm({ mode: 'get', ...passkey, label: 'Use a passkey' })}`
    : ''
  return page(
    'Confirm it’s you',
    `<h1>Confirm it’s you</h1>
<p><small>to continue to <strong>${escapeHtml(args.clientName)}</strong></small></p>
${args.error ? `<p class="error" role="alert">${escapeHtml(args.error)}</p>` : ''}${codeForm}${passkeyPart}`,
    passkey ? PASSKEY_SCRIPT : '',
  )
}

/**
 * The consent form. For a device authorization it shows the code, so the person can check it is
 * the one on their own device (RFC 8628 §5.4: a code a phisher sent shows something else). With
 * resource indicators (RFC 8707), it names the APIs the access will be used at.
 */
export function consentPage(args: {
  action: string
  csrf: string
  clientName: string
  scopes: readonly string[]
  deviceCode?: string | undefined
  resources?: readonly string[] | undefined
}): string {
  const items = args.scopes.map((s) => `<li>${escapeHtml(SCOPE_TEXT[s] ?? s)}</li>`).join('')
  const resources =
    args.resources === undefined || args.resources.length === 0
      ? ''
      : `<p>for use at:</p>\n<ul>${args.resources.map((r) => `<li><code>${escapeHtml(r)}</code></li>`).join('')}</ul>\n`
  const device =
    args.deviceCode === undefined
      ? ''
      : `<p>A device showing the code <strong>${escapeHtml(args.deviceCode)}</strong> asks to connect. Allow it only if you started this on that device yourself.</p>`
  return page(
    'Allow access',
    `<h1>Allow access?</h1>
${device}<p><strong>${escapeHtml(args.clientName)}</strong> would like to:</p>
<ul>${items}</ul>
${resources}<form method="post" action="${escapeHtml(args.action)}">
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
