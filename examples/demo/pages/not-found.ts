/**
 * The page for unknown paths.
 *
 * @module
 */
import { type Html, html } from '../html.ts'
import type { DemoUser } from '../user.ts'
import { layout } from './layout.ts'

/** 404. */
export function notFoundPage(user: DemoUser | null): Html {
  return layout(
    'Not found',
    { user, section: 'none' },
    html`<section class="card hero"><h1>Not found</h1><p class="lead">There is no page here.</p><div class="actions"><a class="button secondary" href="/">Back to the start</a></div></section>`,
  )
}
