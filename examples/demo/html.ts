/**
 * Server-rendered HTML without a framework: the `html` tag escapes every interpolated value
 * unless it is already {@link Html} (the output of another `html` tag), so nothing the user, the
 * OP or a URL supplies can become markup.
 *
 * @module
 */
import { escapeHtml } from '../../src/op/http/html.ts'

/** A fragment of trusted HTML (built only by the `html` tag). */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value
  }
}

export { escapeHtml }

function render(value: unknown): string {
  if (value instanceof Html) return value.value
  if (Array.isArray(value)) return value.map(render).join('')
  if (value === null || value === undefined || value === false) return ''
  return escapeHtml(String(value))
}

/**
 * Tagged template: values are escaped, nested `html` fragments and arrays of them are kept.
 *
 * @example
 * ```ts
 * html`<p>Hello ${name}</p>` // name "<b>" renders as &lt;b&gt;
 * ```
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0] ?? ''
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '')
  })
  return new Html(out)
}

/** A timestamp (ms since the epoch) as `2025-01-31 14:05:09 UTC`. */
export function formatTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`
}

/** "in 29 min", "in 6 days", "3 min ago", "just now": how far `ms` is from `now`. */
export function relativeTime(ms: number, now: number): string {
  const seconds = Math.round((ms - now) / 1000)
  if (seconds === 0) return 'just now'
  const abs = Math.abs(seconds)
  const [amount, unit] =
    abs < 90
      ? [abs, 's']
      : abs < 90 * 60
        ? [Math.round(abs / 60), 'min']
        : abs < 36 * 3600
          ? [Math.round(abs / 3600), 'h']
          : [Math.round(abs / 86_400), abs < 1.5 * 86_400 ? 'day' : 'days']
  return seconds >= 0 ? `in ${amount} ${unit}` : `${amount} ${unit} ago`
}
