/**
 * The home page: the sign-in buttons when signed out, a way on when signed in.
 *
 * @module
 */
import { type Html, html } from '../html.ts'
import type { DemoUser } from '../user.ts'
import {
  layout,
  type ProviderButton,
  providerSignOutForm,
  signInButtons,
  signOutForm,
} from './layout.ts'

/** The home page. */
export function homePage(user: DemoUser | null, providers: readonly ProviderButton[]): Html {
  const providerName = (id: string) => providers.find((p) => p.id === id)?.name ?? id
  const content = user
    ? html`<section class="card hero">
<h1>Welcome back, ${user.name ?? user.username ?? user.subject}</h1>
<p class="lead">You are signed in with <strong>${providerName(user.provider)}</strong>. Your session lives on the server; your browser holds only its random id, in an <code>HttpOnly</code> cookie.</p>
<div class="actions">
<a class="button primary" href="/profile">Go to your profile</a>
<a class="button secondary" href="/inspector">Open the flow inspector</a>
</div>
${user.provider === 'authkestra' ? html`<p class="hint">Also open <a href="/notes">Notes</a>, a second app that signs in through the same Authkestra ID: one sign-in serves both, and signing out of Authkestra ID from either ends both.</p><div class="actions">${signOutForm()}${providerSignOutForm()}</div>` : ''}
</section>`
    : html`<section class="card hero">
<h1>Sign in, and watch PKCE at work</h1>
<p class="lead">This app signs you in with OAuth 2.0 and OpenID Connect through <strong>Authkestra</strong>. Every login carries a PKCE challenge; the flow inspector then shows each step with the real values.</p>
${signInButtons(providers, '/profile')}
<p class="hint">Demo account: <strong>alice</strong> / <strong>wonderland</strong>. Authkestra ID keeps its own single sign-on session, so after signing out here the next sign-in may skip the password.</p>
</section>`
  return layout(
    'Home',
    { user, section: 'home' },
    html`${content}
<section class="card">
<h2>What happens when you sign in</h2>
<ol class="steps-list">
<li><strong>Authorization request.</strong> The server draws a secret <code>code_verifier</code>, keeps it sealed in a short-lived cookie, and sends your browser to the provider with only its hash, the <code>code_challenge</code> (<code>S256</code>).</li>
<li><strong>Callback.</strong> The provider sends you back with a one-time <code>code</code>, the <code>state</code> and its <code>iss</code>; the server checks both before anything else.</li>
<li><strong>Token request.</strong> The server redeems the code together with the <code>code_verifier</code>. The provider hashes it and compares with the challenge: only whoever started the login can finish it.</li>
<li><strong>Result.</strong> The ID token is verified, and a session starts.</li>
</ol>
</section>`,
  )
}
