/**
 * The page of "Notes", the demo's second app: its own client at Authkestra ID and its own
 * session, shown beside the demo app's, so that single logout can be watched.
 *
 * @module
 */
import { type Html, html } from '../html.ts'
import type { DemoUser } from '../user.ts'
import { layout, providerSignOutForm, signOutForm } from './layout.ts'

const display = (user: DemoUser) => user.name ?? user.username ?? user.subject

/** The Notes page: `notesUser` is who is signed in to Notes, `appUser` to the demo app. */
export function notesPage(
  notesUser: DemoUser | null,
  appUser: DemoUser | null,
  basePath: string,
): Html {
  const status = notesUser
    ? html`<p class="notes-status">Signed in to Notes as <strong>${display(notesUser)}</strong>.</p>
<div class="actions">${signOutForm(basePath, 'Sign out of Notes')}${providerSignOutForm(basePath)}</div>`
    : html`<p class="notes-status">Signed out of Notes.</p>
<div class="actions"><a class="button primary" href="${basePath}/login/authkestra?returnTo=/notes">Sign in to Notes with Authkestra ID</a></div>`
  return layout(
    'Notes',
    { user: appUser, section: 'notes' },
    html`<section class="card hero">
<h1>Notes, a second app</h1>
<p class="lead">Notes signs in through the same Authkestra ID as its own client (<code>demo-notes</code>), with its own session and cookie. Signed in at Authkestra ID already, you come straight back: single sign-on.</p>
${status}
</section>
<section class="card">
<h2>Single logout</h2>
<p>Both apps registered a back-channel logout URI at Authkestra ID. <strong>Sign out of Authkestra ID too</strong>, from either app, ends Authkestra ID's session; it then posts a signed logout token to every app that signed in with that session, and their sessions end as well. Plain <strong>Sign out</strong> ends only the app's own session.</p>
<dl class="facts">
<dt>The demo app</dt><dd class="app-status">${appUser ? html`signed in as ${display(appUser)}` : 'signed out'}</dd>
<dt>Notes</dt><dd class="notes-app-status">${notesUser ? html`signed in as ${display(notesUser)}` : 'signed out'}</dd>
</dl>
</section>`,
  )
}
