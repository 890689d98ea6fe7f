/**
 * The account page's HTML: the factors, the re-authentication form, TOTP enrolment with its QR
 * code, and recovery codes shown once. Every echoed value is escaped; the QR SVG is markup the
 * OP made from a URI of base32 and escaped names.
 *
 * @module
 */
import type { AccountFactors, TotpEnrollment } from '../../../mfa/create-mfa.ts'
import { escapeHtml, page } from '../../http/html.ts'
import { passkeyForm } from '../interaction/pages.ts'
import { PASSKEY_SCRIPT } from '../interaction/passkey-script.ts'

/** Where the forms post, and their one-time CSRF token. */
export interface AccountForms {
  readonly base: string
  readonly csrf: string
  readonly passkeys: boolean
}

const hidden = (csrf: string) => `<input type="hidden" name="csrf" value="${escapeHtml(csrf)}">`
const credentialField = (id: string) =>
  `<input type="hidden" name="credential" value="${escapeHtml(id)}">`
const when = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ')

function post(forms: AccountForms, action: string, fields: string, label: string, cls = '') {
  return `<form method="post" action="${escapeHtml(`${forms.base}/${action}`)}" style="display:inline">${hidden(forms.csrf)}${fields}<button type="submit"${cls ? ` class="${cls}"` : ''}>${escapeHtml(label)}</button></form>`
}

/** The account page: factors with remove buttons, and what can be added. */
export function accountPage(args: {
  forms: AccountForms
  name: string
  factors: AccountFactors
  notice?: string | undefined
  error?: string | undefined
}): string {
  const { forms, factors } = args
  const row = (f: { id: string; name: string; createdAt: number; lastUsedAt?: number }) =>
    `<li><strong>${escapeHtml(f.name)}</strong> <small>added ${when(f.createdAt)}${f.lastUsedAt ? `, last used ${when(f.lastUsedAt)}` : ''}</small> ${post(forms, 'remove', credentialField(f.id), 'Remove', 'secondary')} ${post(forms, 'rename', `${credentialField(f.id)}<input type="text" name="name" maxlength="64" required aria-label="New name" value="${escapeHtml(f.name)}">`, 'Rename', 'secondary')}</li>`
  const list = (items: readonly { id: string; name: string; createdAt: number }[]) =>
    items.length === 0 ? '<p><small>None yet.</small></p>' : `<ul>${items.map(row).join('')}</ul>`
  const passkey = forms.passkeys
    ? passkeyForm({
        mode: 'create',
        action: `${forms.base}/passkey`,
        optionsUrl: `${forms.base}/passkey/options`,
        csrf: forms.csrf,
        label: 'Add a passkey',
        extra:
          '<label for="passkey-name">Name</label><input type="text" id="passkey-name" name="name" maxlength="64" value="Passkey">',
      })
    : ''
  return page(
    'Your account',
    `<h1>Sign-in methods</h1>
<p><small>Signed in as <strong>${escapeHtml(args.name)}</strong></small></p>
${args.notice ? `<p role="status">${escapeHtml(args.notice)}</p>` : ''}${args.error ? `<p class="error" role="alert">${escapeHtml(args.error)}</p>` : ''}
<h2>Authenticator apps</h2>${list(factors.totp)}${post(forms, 'totp', '', 'Add an authenticator app')}
${forms.passkeys ? `<h2>Passkeys</h2>${list(factors.passkeys)}${passkey}` : ''}
<h2>Recovery codes</h2><p><small>${factors.recoveryCodes} unused.</small></p>${post(forms, 'recovery', '', factors.recoveryCodes > 0 ? 'Make new recovery codes' : 'Make recovery codes')}`,
    forms.passkeys ? PASSKEY_SCRIPT : '',
  )
}

/** "Confirm it's you" before a change: a code or passkey if the account has one, else the password. */
export function reauthPage(args: {
  forms: AccountForms
  username: string
  code: boolean
  passkey: boolean
  error?: string | undefined
}): string {
  const { forms } = args
  const codeForm = args.code
    ? `<form method="post" action="${escapeHtml(`${forms.base}/reauth`)}">${hidden(forms.csrf)}
<label for="code">Code from your authenticator app</label>
<input type="text" id="code" name="code" autocomplete="one-time-code" required maxlength="32">
<button type="submit">Confirm</button></form>`
    : ''
  const passwordForm = `<form method="post" action="${escapeHtml(`${forms.base}/reauth`)}">${hidden(forms.csrf)}
<label for="username">Username</label>
<input type="text" id="username" name="username" autocomplete="username" required value="${escapeHtml(args.username)}">
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">Confirm</button></form>`
  const passkey = args.passkey
    ? passkeyForm({
        mode: 'get',
        action: `${forms.base}/reauth`,
        optionsUrl: `${forms.base}/reauth/options`,
        csrf: forms.csrf,
        label: 'Confirm with a passkey',
      })
    : ''
  return page(
    'Confirm it’s you',
    `<h1>Confirm it’s you</h1><p><small>Changing how you sign in needs a fresh sign-in.</small></p>
${args.error ? `<p class="error" role="alert">${escapeHtml(args.error)}</p>` : ''}${args.code || args.passkey ? `${codeForm}${passkey}` : passwordForm}`,
    args.passkey ? PASSKEY_SCRIPT : '',
  )
}

/** TOTP enrolment: the QR code (and the secret to type), then the first code. */
export function totpPage(args: {
  forms: AccountForms
  enrollment: TotpEnrollment
  error?: string | undefined
}): string {
  const { forms, enrollment } = args
  return page(
    'Add an authenticator app',
    `<h1>Add an authenticator app</h1>
<p>Scan this with your authenticator app, then type the code it shows.</p>
<div style="width:220px">${enrollment.qrSvg}</div>
<p><small>Or type this key: <code>${escapeHtml(enrollment.secret.replace(/(.{4})/g, '$1 ').trim())}</code></small></p>
${args.error ? `<p class="error" role="alert">${escapeHtml(args.error)}</p>` : ''}
<form method="post" action="${escapeHtml(`${forms.base}/totp/confirm`)}">${hidden(forms.csrf)}
<input type="hidden" name="credential" value="${escapeHtml(enrollment.credentialId)}">
<label for="code">Code</label>
<input type="text" id="code" name="code" autocomplete="one-time-code" required maxlength="16">
<button type="submit">Confirm</button></form>`,
  )
}

/** New recovery codes, shown this once. */
export function recoveryPage(args: { back: string; codes: readonly string[] }): string {
  return page(
    'Recovery codes',
    `<h1>Your recovery codes</h1>
<p>Each works once, if you lose your authenticator. Save them now: they are not shown again.</p>
<ul>${args.codes.map((c) => `<li><code>${escapeHtml(c)}</code></li>`).join('')}</ul>
<p><a href="${escapeHtml(args.back)}">Done</a></p>`,
  )
}

/** Not signed in at the OP. */
export function signedOutPage(): string {
  return page(
    'Your account',
    '<h1>You are not signed in</h1><p>Sign in through an application first, then come back here.</p>',
  )
}
