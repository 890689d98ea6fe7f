/**
 * Where Authkestra says what went wrong: failed logins and callbacks with their precise cause,
 * refused logout tokens, unexpected errors. Messages never carry tokens, codes, verifiers,
 * secrets or cookie values (the error messages they quote are written that way). The engine,
 * `bearer()` and `createOp` take a `logger` of this shape; the default is
 * {@link consoleLogger}`('warn')`.
 *
 * @module
 */

/** A sink for Authkestra's messages (`console` fits, as does pino's or winston's logger). */
export interface Logger {
  /** Details a developer wants while wiring things up: each route answered, and how. */
  debug?(message: string): void
  /** Something failed that the user or the configuration caused (a refused login, …). */
  warn(message: string): void
  /** Something failed that should not have (a bug, a store down). */
  error(message: string, error?: unknown): void
}

/** The levels of {@link consoleLogger}, most verbose first. */
export type LogLevel = 'debug' | 'warn' | 'error' | 'silent'

const RANK: Readonly<Record<LogLevel, number>> = { debug: 0, warn: 1, error: 2, silent: 3 }

/**
 * Concise lines on the console, prefixed `[authkestra]`, from `level` up (default `warn`;
 * `debug` adds a line per route answered; `silent` prints nothing).
 *
 * @example
 * ```ts
 * const auth = createAuthkestra({ providers, secret, session: {}, logger: consoleLogger('debug') })
 * ```
 */
export function consoleLogger(level: LogLevel = 'warn'): Logger {
  if (!(level in RANK))
    throw new TypeError('consoleLogger: level must be debug, warn, error or silent')
  const at = RANK[level]
  const logger: Logger = {
    warn: (message) => {
      // biome-ignore lint/suspicious/noConsole: this logger's purpose
      if (at <= RANK.warn) console.warn(`[authkestra] ${message}`)
    },
    error: (message, error) => {
      if (at > RANK.error) return
      // biome-ignore lint/suspicious/noConsole: this logger's purpose
      if (error === undefined) console.error(`[authkestra] ${message}`)
      // biome-ignore lint/suspicious/noConsole: this logger's purpose
      else console.error(`[authkestra] ${message}`, error)
    },
  }
  if (at <= RANK.debug) {
    logger.debug = (message) => {
      // biome-ignore lint/suspicious/noConsole: this logger's purpose
      console.debug(`[authkestra] ${message}`)
    }
  }
  return logger
}
