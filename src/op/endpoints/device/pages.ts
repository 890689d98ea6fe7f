/**
 * The device verification pages (RFC 8628 §3.3): where a person types the code their device
 * shows, and the last page after they allowed or denied it. Plain HTML forms, every echoed value
 * escaped, no script.
 *
 * @module
 */
import { escapeHtml, page } from '../../http/html.ts'

/** The code-entry form (`user_code`, `csrf`). */
export function entryPage(args: {
  action: string
  csrf: string
  userCode?: string | undefined
  error?: string | undefined
}): string {
  return page(
    'Connect a device',
    `<h1>Connect a device</h1>
<p>Enter the code shown on your device.</p>
${args.error ? `<p class="error" role="alert">${escapeHtml(args.error)}</p>` : ''}
<form method="post" action="${escapeHtml(args.action)}">
<input type="hidden" name="csrf" value="${escapeHtml(args.csrf)}">
<label for="user_code">Code</label>
<input type="text" id="user_code" name="user_code" autocomplete="off" autocapitalize="characters" spellcheck="false" required autofocus placeholder="XXXX-XXXX" value="${escapeHtml(args.userCode ?? '')}">
<button type="submit">Continue</button>
</form>`,
  )
}

/** The page after the decision: back to the device, or nothing was allowed. */
export function decidedPage(approved: boolean, clientName: string): string {
  return approved
    ? page(
        'Device connected',
        `<h1>Device connected</h1><p><strong>${escapeHtml(clientName)}</strong> can now continue on your device. You can close this page.</p>`,
      )
    : page(
        'Access denied',
        `<h1>Access denied</h1><p><strong>${escapeHtml(clientName)}</strong> was not given access. You can close this page.</p>`,
      )
}
