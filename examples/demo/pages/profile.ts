/**
 * The profile page: who you are, the provider's claims, and when the session ends.
 *
 * @module
 */
import type { Session } from '../../../src/engine/sessions/manager.ts'
import { formatTime, type Html, html, relativeTime } from '../html.ts'
import type { DemoUser } from '../user.ts'
import { layout, providerSignOutForm, signOutEverywhereForm, signOutForm } from './layout.ts'

/** Claims that are times in seconds since the epoch (OIDC Core §2). */
const TIME_CLAIMS = new Set(['exp', 'iat', 'nbf', 'auth_time', 'updated_at'])

function claimValue(name: string, value: unknown): Html {
  if (typeof value === 'string') return html`<code>${value}</code>`
  const json = html`<code>${JSON.stringify(value)}</code>`
  if (TIME_CLAIMS.has(name) && typeof value === 'number')
    return html`${json} <span class="muted">${formatTime(value * 1000)}</span>`
  return json
}

function initials(name: string): string {
  const parts = name.split(/\s+/).filter(Boolean)
  return parts
    .slice(0, 2)
    .map((p) => p[0]?.toUpperCase() ?? '')
    .join('')
}

/**
 * How this session signed in (the ID token's `acr`, `amr`), where Authkestra ID's account page
 * adds a passkey or an authenticator app, and the page that needs a second factor.
 */
function signInMethods(session: Session<DemoUser>): Html {
  const { acr, amr } = session.auth
  const atAuthkestra = session.user.provider === 'authkestra'
  return html`<h2>Second factors</h2>
<dl class="facts">
<dt>This sign-in</dt><dd><code>acr</code> ${acr ?? '—'}, <code>amr</code> ${(amr ?? []).join(' ') || '—'}</dd>
</dl>
<div class="actions">${atAuthkestra ? html`<a class="button secondary" href="/oidc/account">Add a passkey or an authenticator app</a>` : ''}<a class="button secondary" href="/sensitive">Open the sensitive page (asks for a second factor)</a></div>`
}

/** The profile page of a signed-in user. */
export function profilePage(session: Session<DemoUser>, providerName: string, now: number): Html {
  const user = session.user
  const display = user.name ?? user.username ?? user.subject
  const claims = Object.entries(user.claims).sort(([a], [b]) => a.localeCompare(b))
  const expires = session.expiresAt.getTime()
  const idle = session.idleExpiresAt.getTime()
  return layout(
    'Profile',
    { user, section: 'profile' },
    html`<section class="card profile">
<div class="profile-head">
<div class="avatar" aria-hidden="true">${initials(display)}</div>
<div>
<h1>${display}</h1>
<p class="email">${user.email ?? 'no email'} ${
      user.email === null
        ? ''
        : user.emailVerified
          ? html`<span class="badge ok">verified</span>`
          : html`<span class="badge warn">not verified</span>`
    }</p>
</div>
</div>
<dl class="facts">
<dt>Signed in with</dt><dd>${providerName}</dd>
<dt>Issuer</dt><dd><code>${user.issuer ?? '—'}</code></dd>
<dt>Subject</dt><dd><code>${user.subject}</code></dd>
<dt>Username</dt><dd>${user.username ?? '—'}</dd>
</dl>
${signInMethods(session)}
<div class="actions"><a class="button secondary" href="/inspector">See how this sign-in worked</a>${signOutForm()}${user.provider === 'authkestra' ? providerSignOutForm() : ''}${signOutEverywhereForm()}</div>
</section>
<section class="card">
<h2>Session</h2>
<dl class="facts">
<dt>Started</dt><dd>${formatTime(session.createdAt.getTime())}</dd>
<dt>Expires</dt><dd>${formatTime(expires)} <span class="muted">(${relativeTime(expires, now)}, whatever you do)</span></dd>
<dt>Idle timeout</dt><dd>${formatTime(idle)} <span class="muted">(${relativeTime(idle, now)} unless you come back)</span></dd>
<dt>Stored</dt><dd>on the server, in the demo's session store; your browser holds only its id</dd>
</dl>
</section>
<section class="card">
<h2>Claims</h2>
<p class="muted">From the verified ID token and the userinfo endpoint, merged, as the provider sent them.</p>
<table class="kv">
<thead><tr><th scope="col">Claim</th><th scope="col">Value</th></tr></thead>
<tbody>${claims.map(
      ([name, value]) =>
        html`<tr><th scope="row"><code>${name}</code></th><td>${claimValue(name, value)}</td></tr>`,
    )}</tbody>
</table>
</section>`,
  )
}
