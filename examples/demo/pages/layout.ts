/**
 * The frame of every page: header with navigation and the sign-out form, then the content. No
 * script anywhere; styles come from `/assets/demo.css` (the CSP allows nothing inline).
 *
 * @module
 */
import { type Html, html } from '../html.ts'
import type { DemoUser } from '../user.ts'

/** Which navigation entry is the current page. */
export type Section = 'home' | 'profile' | 'inspector' | 'notes' | 'none'

/** A button that starts a login with one provider. */
export interface ProviderButton {
  readonly id: string
  readonly name: string
}

/** The login URL of a provider, coming back to `returnTo`. */
export function loginHref(providerId: string, returnTo: string): string {
  const query = encodeURIComponent(returnTo).replace(/%2F/g, '/')
  return `/auth/login/${encodeURIComponent(providerId)}?returnTo=${query}`
}

/** The sign-in buttons: Authkestra ID first and prominent, the others after it. */
export function signInButtons(providers: readonly ProviderButton[], returnTo: string): Html {
  return html`<div class="actions">${providers.map(
    (p, i) =>
      html`<a class="button ${i === 0 ? 'primary' : 'secondary'} provider-${p.id}" href="${loginHref(p.id, returnTo)}">Sign in with ${p.name}</a>`,
  )}</div>`
}

/**
 * The sign-out form: a same-origin POST, which the engine's logout route requires. `local=true`
 * signs out of this app only; Authkestra ID's session (and the other app's) stays.
 */
export function signOutForm(basePath = '/auth', label = 'Sign out'): Html {
  return html`<form class="signout" method="post" action="${basePath}/logout?local=true"><button type="submit" class="button link">${label}</button></form>`
}

/**
 * Signs out of this app and of Authkestra ID (RP-initiated logout: the engine sends the browser
 * to the OP's end-session endpoint with the ID token as hint); the OP then tells every other app
 * of that session over the back channel.
 */
export function providerSignOutForm(basePath = '/auth'): Html {
  return html`<form class="signout" method="post" action="${basePath}/logout"><button type="submit" class="button link">Sign out of Authkestra ID too</button></form>`
}

/** Ends every session of this user, in every browser (the engine's logout-everywhere route). */
export function signOutEverywhereForm(): Html {
  return html`<form class="signout" method="post" action="/auth/logout-everywhere"><button type="submit" class="button link">Sign out everywhere</button></form>`
}

function navLink(href: string, label: string, current: boolean): Html {
  return current
    ? html`<a href="${href}" aria-current="page">${label}</a>`
    : html`<a href="${href}">${label}</a>`
}

/** A whole page. */
export function layout(
  title: string,
  context: { user: DemoUser | null; section: Section },
  content: Html,
): Html {
  const { user, section } = context
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Authkestra demo</title>
<link rel="stylesheet" href="/assets/demo.css">
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
</head>
<body>
<header class="topbar">
<div class="topbar-inner">
<a class="brand" href="/"><span class="logo" aria-hidden="true">A</span>Authkestra <span class="muted">demo</span></a>
<nav aria-label="Main">
${navLink('/', 'Home', section === 'home')}
${navLink('/profile', 'Profile', section === 'profile')}
${navLink('/inspector', 'Flow inspector', section === 'inspector')}
${navLink('/notes', 'Notes', section === 'notes')}
</nav>
<div class="who">${
    user
      ? html`<span class="who-name">${user.name ?? user.username ?? user.subject}</span>${signOutForm()}`
      : html`<span class="muted">Signed out</span>`
  }</div>
</div>
</header>
<main>
${content}
</main>
<footer><p>Authkestra demo · OAuth 2.0 + OpenID Connect with PKCE · the OpenID Provider “Authkestra ID” runs in this same process at <code>/oidc</code></p></footer>
</body>
</html>
`
}
