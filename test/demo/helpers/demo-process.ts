// Starts the demo as `npm start` does (`node --import tsx examples/demo/server.ts`), on a free
// port, with a clean environment (no AUTH_SECRET, no GitHub/Google credentials) plus `env`.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const root = new URL('../../../', import.meta.url).pathname

/** A running demo process. */
export interface DemoProcess {
  readonly origin: string
  readonly child: ChildProcess
  /** Everything it printed so far (stdout and stderr). */
  output(): string
  stop(): Promise<void>
}

/** The demo's environment: the parent's, minus what would change its behaviour. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  // Each demo gets its own data folder unless the test shares one (the restart test does).
  const dataDir = mkdtempSync(join(tmpdir(), 'authkestra-demo-'))
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', DEMO_DATA_DIR: dataDir, ...extra }
  for (const name of [
    'AUTH_SECRET',
    'GITHUB_CLIENT_ID',
    'GITHUB_CLIENT_SECRET',
    'GOOGLE_CLIENT_ID',
    'GOOGLE_CLIENT_SECRET',
  ]) {
    if (!(name in extra)) delete env[name]
  }
  return env
}

/** Spawns the demo; the exit code and output when it ends on its own. */
export function spawnDemo(env: Record<string, string> = {}): {
  child: ChildProcess
  output: () => string
  exited: Promise<number | null>
} {
  const child = spawn(process.execPath, ['--import', 'tsx', 'examples/demo/server.ts'], {
    cwd: root,
    env: cleanEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout?.on('data', (d) => {
    output += d
  })
  child.stderr?.on('data', (d) => {
    output += d
  })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { child, output: () => output, exited }
}

/** Starts the demo and waits for the URL it prints. */
export async function startDemo(env: Record<string, string> = {}): Promise<DemoProcess> {
  const { child, output, exited } = spawnDemo(env)
  const origin = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`demo not ready in 30 s:\n${output()}`)),
      30_000,
    )
    const check = () => {
      const m = /Authkestra demo ready: (http:\/\/localhost:\d+)/.exec(output())
      if (m?.[1]) {
        clearTimeout(timer)
        resolve(m[1])
      }
    }
    child.stdout?.on('data', check)
    void exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`demo exited with ${code} before it was ready:\n${output()}`))
    })
  })
  return {
    origin,
    child,
    output,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM')
        await exited
      }
    },
  }
}
