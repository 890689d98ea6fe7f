// A loopback stand-in for the three siteverify APIs, one server for all: Turnstile at
// /turnstile/v0/siteverify, hCaptcha at /siteverify, reCAPTCHA at /recaptcha/api/siteverify.
// Each parses the request as its provider documents (a form-encoded POST; Turnstile also JSON),
// answers each provider's error codes, remembers spent tokens, and has knobs to misbehave.
import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'

export type SimProvider = 'turnstile' | 'hcaptcha' | 'recaptcha'

/** What the widget would have recorded when the user solved it. */
export interface SolvedChallenge {
  hostname?: string | undefined
  action?: string | undefined
  score?: number | undefined
  /** ms since the epoch (default: now). */
  challengeTs?: number | undefined
  cdata?: string | undefined
  /** hCaptcha: the site key the token was made for. */
  siteKey?: string | undefined
}

/** How the server misbehaves for the next requests. */
export type SimMode =
  | 'normal'
  | 'down' // the connection is destroyed without an answer
  | 'slow' // answers after `slowMs`
  | 'status-500'
  | 'html' // 200 with an HTML page
  | 'huge' // 200 with a JSON body of 1 MiB
  | 'array' // 200 with a JSON array
  | 'no-success' // 200 with an object lacking `success`
  | 'redirect' // 302 to another siteverify

export const SIM_SECRETS: Readonly<Record<SimProvider, string>> = {
  turnstile: 'sim-turnstile-secret-0123456789abcdef',
  hcaptcha: 'sim-hcaptcha-secret-0123456789abcdef',
  recaptcha: 'sim-recaptcha-secret-0123456789abcdef',
}
export const SIM_HCAPTCHA_SITEKEY = '10000000-ffff-ffff-ffff-000000000001'

const PATHS: Readonly<Record<string, SimProvider>> = {
  '/turnstile/v0/siteverify': 'turnstile',
  '/siteverify': 'hcaptcha',
  '/recaptcha/api/siteverify': 'recaptcha',
}

export class SiteverifySim {
  mode: SimMode = 'normal'
  slowMs = 5_000
  /** Every request's parsed fields, in order. */
  readonly requests: { provider: SimProvider; fields: Record<string, string>; type: string }[] = []
  readonly #tokens = new Map<string, { provider: SimProvider; solved: SolvedChallenge }>()
  readonly #spent = new Set<string>()
  readonly #server: Server
  #port = 0

  constructor() {
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch(() => res.destroy())
    })
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve))
    const address = this.#server.address()
    this.#port = typeof address === 'object' && address ? address.port : 0
    return this
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }

  /** The siteverify URL of a provider on this server. */
  url(provider: SimProvider): string {
    const path = Object.entries(PATHS).find(([, p]) => p === provider)?.[0] ?? ''
    return `http://127.0.0.1:${this.#port}${path}`
  }

  /** A token as the widget would hand the browser after a solve. */
  issue(provider: SimProvider, solved: SolvedChallenge = {}): string {
    const prefix = provider === 'hcaptcha' ? 'P1_' : provider === 'turnstile' ? '0.' : '03A'
    const token = `${prefix}${randomBytes(48).toString('base64url')}`
    this.#tokens.set(token, { provider, solved })
    return token
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const provider = PATHS[new URL(req.url ?? '/', 'http://x').pathname]
    if (!provider) return send(res, 404, { error: 'not found' })
    if (req.method !== 'POST')
      return send(res, 405, { success: false, 'error-codes': ['bad-request'] })
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const text = Buffer.concat(chunks).toString('utf8')
    const type = req.headers['content-type'] ?? ''
    let fields: Record<string, string>
    if (type.startsWith('application/x-www-form-urlencoded'))
      fields = Object.fromEntries(new URLSearchParams(text))
    else if (provider === 'turnstile' && type.startsWith('application/json'))
      fields = JSON.parse(text) as Record<string, string>
    else return send(res, 200, { success: false, 'error-codes': ['bad-request'] })
    this.requests.push({ provider, fields, type })
    if (this.mode === 'down') return void res.destroy()
    if (this.mode === 'slow') await new Promise((r) => setTimeout(r, this.slowMs))
    if (this.mode === 'status-500') return send(res, 500, { success: false })
    if (this.mode === 'html') {
      res.writeHead(200, { 'content-type': 'text/html' })
      return void res.end('<html><body>Bad gateway</body></html>')
    }
    if (this.mode === 'huge')
      return send(res, 200, { success: true, padding: 'x'.repeat(1_048_576) })
    if (this.mode === 'array') return send(res, 200, [true])
    if (this.mode === 'no-success') return send(res, 200, { hostname: 'login.example' })
    if (this.mode === 'redirect') {
      res.writeHead(302, { location: this.url(provider) })
      return void res.end()
    }
    send(res, 200, this.#verdict(provider, fields))
  }

  #verdict(provider: SimProvider, fields: Record<string, string>): Record<string, unknown> {
    const refuse = (code: string) => ({ success: false, 'error-codes': [code] })
    if (!fields.secret) return refuse('missing-input-secret')
    if (fields.secret !== SIM_SECRETS[provider]) return refuse('invalid-input-secret')
    if (!fields.response) return refuse('missing-input-response')
    const known = this.#tokens.get(fields.response)
    if (!known || known.provider !== provider) return refuse('invalid-input-response')
    const { solved } = known
    if (provider === 'hcaptcha' && fields.sitekey !== undefined) {
      if (fields.sitekey !== (solved.siteKey ?? SIM_HCAPTCHA_SITEKEY))
        return refuse('sitekey-secret-mismatch')
    }
    if (this.#spent.has(fields.response))
      return refuse(provider === 'hcaptcha' ? 'already-seen-response' : 'timeout-or-duplicate')
    this.#spent.add(fields.response)
    const ts = new Date(solved.challengeTs ?? Date.now())
    const challenge_ts =
      provider === 'turnstile' ? ts.toISOString() : ts.toISOString().replace(/\.\d{3}Z$/, 'Z')
    const hostname = solved.hostname ?? 'login.example'
    if (provider === 'turnstile')
      return {
        success: true,
        'error-codes': [],
        challenge_ts,
        hostname,
        action: solved.action ?? '',
        cdata: solved.cdata ?? '',
        metadata: { interactive: false },
      }
    if (provider === 'hcaptcha')
      return {
        success: true,
        challenge_ts,
        hostname,
        credit: false,
        ...(solved.score === undefined ? {} : { score: solved.score, score_reason: [] }),
      }
    return {
      success: true,
      challenge_ts,
      hostname,
      ...(solved.score === undefined ? {} : { score: solved.score }),
      ...(solved.action === undefined ? {} : { action: solved.action }),
    }
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
}
