/**
 * HTML for the OP's own pages: everything echoed goes through {@link escapeHtml}.
 *
 * @module
 */

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
}

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c)
}

/**
 * A minimal, readable page around `body` (already escaped HTML), with an inline `script` (a
 * constant of the OP, allowed by its hash in the page's CSP).
 */
export function page(title: string, body: string, script = ''): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;background:#f4f5f7;color:#1d2330;margin:0;display:grid;place-items:center;min-height:100vh}
main{background:#fff;border-radius:12px;box-shadow:0 2px 12px #0002;padding:2rem;width:min(360px,90vw)}
h1{font-size:1.3rem;margin:0 0 1rem}label{display:block;margin:.8rem 0 .2rem;font-weight:600}
input[type=text],input[type=password]{width:100%;box-sizing:border-box;padding:.55rem;border:1px solid #c5cad3;border-radius:6px;font:inherit}
button{margin-top:1.2rem;padding:.6rem 1rem;border:0;border-radius:6px;background:#3451d1;color:#fff;font:inherit;cursor:pointer}
button.secondary{background:#e4e7ee;color:#1d2330;margin-left:.5rem}.error{color:#b3261e;background:#fdecea;padding:.5rem;border-radius:6px}
ul{padding-left:1.2rem}small{color:#5b6272}
</style></head><body><main>${body}</main>${script === '' ? '' : `<script>${script}</script>`}</body></html>`
}
