/**
 * The sensitive page: only for a sign-in with a second factor in the last five minutes. Its guard
 * (`sessionGuard(auth, { acr: ['mfa', 'phr'], maxAge: 300 })`) sent anyone else back through
 * Authkestra ID asking for `acr_values` and `max_age`; this page shows what the ID token said.
 *
 * @module
 */
import type { Session } from '../../../src/engine/sessions/manager.ts'
import { formatTime, type Html, html, relativeTime } from '../html.ts'
import type { DemoUser } from '../user.ts'
import { layout } from './layout.ts'

/** The page, for a session that passed the step-up. */
export function sensitivePage(session: Session<DemoUser>, now: number): Html {
  const { acr, amr, authTime } = session.auth
  return layout(
    'Sensitive',
    { user: session.user, section: 'profile' },
    html`<section class="card">
<h1>Sensitive settings</h1>
<p class="lead">You got here because your last sign-in used a second factor, less than five minutes ago. Anyone else is sent back through Authkestra ID, which asks for one.</p>
<dl class="facts">
<dt>Assurance (<code>acr</code>)</dt><dd><code>${acr ?? '—'}</code></dd>
<dt>Methods (<code>amr</code>)</dt><dd><code>${(amr ?? []).join(' ') || '—'}</code></dd>
<dt>Signed in</dt><dd>${authTime === undefined ? '—' : html`${formatTime(authTime * 1000)} <span class="muted">(${relativeTime(authTime * 1000, now)})</span>`}</dd>
</dl>
<div class="actions"><a class="button secondary" href="/inspector">See the step-up in the flow inspector</a><a class="button secondary" href="/profile">Back to the profile</a></div>
</section>`,
  )
}
