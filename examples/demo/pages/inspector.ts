/**
 * The flow inspector: the last login of this session, step by step, with the real values
 * (codes and secrets redacted, JWTs decoded without their signature, other tokens cut to 8
 * characters).
 *
 * @module
 */
import { formatTime, type Html, html, relativeTime } from '../html.ts'
import type { PkceCheck } from '../inspector/pkce-check.ts'
import type { FlowTrace } from '../inspector/trace.ts'
import type { DemoUser } from '../user.ts'
import { layout, type ProviderButton, signInButtons } from './layout.ts'

type Notes = Readonly<Record<string, string>>

function mark(ok: boolean): Html {
  return ok
    ? html`<span class="check ok" title="matches">✓</span>`
    : html`<span class="check bad" title="does not match">✗</span>`
}

/** A parameter table; rows named in `notes` are highlighted with the note. */
function paramTable(rows: Iterable<readonly [string, string]>, notes: Notes = {}): Html {
  return html`<table class="kv params">
<thead><tr><th scope="col">Parameter</th><th scope="col">Value</th></tr></thead>
<tbody>${[...rows].map(([name, value]) => {
    const note = notes[name]
    return note === undefined
      ? html`<tr><th scope="row"><code>${name}</code></th><td><code>${value}</code></td></tr>`
      : html`<tr class="highlight"><th scope="row"><code>${name}</code></th><td><code>${value}</code><div class="note">${note}</div></td></tr>`
  })}</tbody>
</table>`
}

function step(n: number, title: string, when: number | undefined, body: Html): Html {
  return html`<section class="card step" id="step-${n}">
<header class="step-head"><span class="step-no">${n}</span><h2>${title}</h2>${
    when === undefined ? '' : html`<time class="muted">${formatTime(when)}</time>`
  }</header>
${body}
</section>`
}

function notRecorded(what: string): Html {
  return html`<p class="muted">The ${what} of this login was not recorded.</p>`
}

function authorizationStep(trace: FlowTrace): Html {
  const a = trace.authorization
  if (!a) return step(1, 'Authorization request', undefined, notRecorded('authorization request'))
  const url = new URL(a.url)
  return step(
    1,
    'Authorization request',
    a.at,
    html`<p>The server drew a fresh <code>code_verifier</code> and kept it sealed in a short-lived cookie. Your browser was sent here with only its hash:</p>
<pre class="url">${a.url}</pre>
${paramTable(url.searchParams, {
  code_challenge: 'BASE64URL(SHA256(code_verifier)): the verifier itself stays on the server',
  code_challenge_method: 'S256: the challenge is a hash, never the verifier in plain',
})}`,
  )
}

function callbackStep(trace: FlowTrace): Html {
  const c = trace.callback
  if (!c) return step(2, 'Callback', undefined, notRecorded('callback'))
  const query = new URL(c.url).searchParams
  const sentState = trace.authorization
    ? new URL(trace.authorization.url).searchParams.get('state')
    : null
  const state = query.get('state')
  const iss = query.get('iss')
  const issuer = trace.result.identity.issuer
  return step(
    2,
    'Callback',
    c.at,
    html`<p>The provider sent your browser back with a one-time code. Before using it, the engine checked the <code>state</code> against the sealed flow cookie and the <code>iss</code> against the provider it started with (RFC 9207, against mix-up attacks).</p>
<pre class="url">${c.url}</pre>
${paramTable(query)}
<ul class="checks">
<li>${mark(state !== null && state === sentState)} <code>state</code> is the one sent in step 1</li>
<li>${
      iss === null
        ? html`<span class="check na">–</span> no <code>iss</code> parameter (this provider does not send RFC 9207's <code>iss</code>)`
        : html`${mark(iss === issuer)} <code>iss</code> is the provider's issuer <code>${issuer ?? '?'}</code>`
    }</li>
</ul>`,
  )
}

function tokenStep(trace: FlowTrace, pkce: PkceCheck): Html {
  const t = trace.token
  if (!t) return step(3, 'Token request', undefined, notRecorded('token request'))
  return step(
    3,
    'Token request',
    t.at,
    html`<p>The server, not the browser, redeemed the code at the token endpoint, sending the <code>code_verifier</code> along:</p>
<pre class="url">POST ${t.endpoint}${t.authorization === null ? '' : `\nAuthorization: ${t.authorization}`}</pre>
${paramTable(t.params, {
  code_verifier: 'sent only now, over the back channel; the provider hashes it and compares',
})}
<div class="proof ${pkce.match ? 'ok' : 'bad'}">
<h3>PKCE check ${mark(pkce.match)}</h3>
<dl>
<dt><code>code_verifier</code> sent in this request</dt><dd><code>${pkce.verifier ?? '(none)'}</code></dd>
<dt>BASE64URL(SHA256(code_verifier)), computed now</dt><dd><code>${pkce.computed ?? '(cannot compute)'}</code></dd>
<dt><code>code_challenge</code> from step 1 (method <code>${pkce.method ?? '?'}</code>)</dt><dd><code>${pkce.challenge ?? '(none)'}</code></dd>
</dl>
<p class="verdict">${
      pkce.match
        ? 'They are equal: whoever redeemed the code is whoever started the login. A stolen code alone is worthless.'
        : 'They differ: the provider should have refused this code.'
    }</p>
</div>
<h3>Token response${t.status === null ? '' : html` <span class="muted">(HTTP ${t.status})</span>`}</h3>
${t.response.length > 0 ? paramTable(t.response) : html`<p class="muted">Not recorded.</p>`}`,
  )
}

function resultStep(trace: FlowTrace, providerName: string, now: number): Html {
  const { identity, tokens } = trace.result
  const expiry =
    tokens.expiresAt === null
      ? 'not given'
      : `${formatTime(tokens.expiresAt)} (${relativeTime(tokens.expiresAt, now)})`
  return step(
    4,
    'Result',
    trace.result.at,
    html`<p>The ID token's signature, issuer, audience, expiry and nonce were verified; then <code>onLogin</code> turned the identity into this session's user. The demo keeps no tokens, only these previews.</p>
<div class="grid2">
<div>
<h3>Identity</h3>
<dl class="facts">
<dt>Provider</dt><dd>${providerName} <span class="muted">(<code>${identity.provider}</code>)</span></dd>
<dt>Issuer</dt><dd><code>${identity.issuer ?? '—'}</code></dd>
<dt>Subject</dt><dd><code>${identity.subject}</code></dd>
<dt>Name</dt><dd>${identity.name ?? '—'}</dd>
<dt>Email</dt><dd>${identity.email ?? '—'} ${identity.email === null ? '' : identity.emailVerified ? html`<span class="badge ok">verified</span>` : html`<span class="badge warn">not verified</span>`}</dd>
<dt>Username</dt><dd>${identity.username ?? '—'}</dd>
</dl>
</div>
<div>
<h3>Tokens</h3>
<dl class="facts">
<dt>Token type</dt><dd>${tokens.tokenType}</dd>
<dt>Access token</dt><dd><code>${tokens.accessToken}</code></dd>
<dt>Expires</dt><dd>${expiry}</dd>
<dt>ID token</dt><dd>${tokens.idToken === null ? '—' : html`<code>${tokens.idToken}</code>`}</dd>
<dt>Refresh token</dt><dd>${tokens.refreshToken === null ? 'none' : html`<code>${tokens.refreshToken}</code>`}</dd>
<dt>Scope</dt><dd>${tokens.scope === null ? '—' : html`<code>${tokens.scope.join(' ')}</code>`}</dd>
</dl>
</div>
</div>`,
  )
}

/** The inspector for a session with a recorded login. */
export function inspectorPage(
  user: DemoUser,
  trace: FlowTrace,
  pkce: PkceCheck,
  providerName: string,
  now: number,
): Html {
  return layout(
    'Flow inspector',
    { user, section: 'inspector' },
    html`<section class="intro">
<h1>Flow inspector</h1>
<p class="lead">Your last sign-in with <strong>${providerName}</strong>, step by step, with the values that went over the wire. The code and any secret are redacted; a JWT shows its decoded header and claims, its signature left out, and any other token its first 8 characters; the <code>code_verifier</code> is shown because its code is already spent.</p>
<p class="summary">PKCE ${mark(pkce.match)} <span>${pkce.match ? 'verified' : 'not verified'}</span></p>
</section>
${authorizationStep(trace)}
${callbackStep(trace)}
${tokenStep(trace, pkce)}
${resultStep(trace, providerName, now)}`,
  )
}

/** The inspector with nothing to show: signed out, or a session without a recorded login. */
export function emptyInspectorPage(
  user: DemoUser | null,
  providers: readonly ProviderButton[],
): Html {
  return layout(
    'Flow inspector',
    { user, section: 'inspector' },
    html`<section class="card hero">
<h1>Flow inspector</h1>
${
  user
    ? html`<p class="lead">This session has no recorded sign-in. Sign out and in again to record one.</p>`
    : html`<p class="lead">Nothing to show yet: sign in, and the inspector will show each step of that login with its real values.</p>${signInButtons(providers, '/inspector')}`
}
</section>`,
  )
}
