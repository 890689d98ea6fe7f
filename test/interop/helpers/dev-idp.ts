// The dev IdP the interop tests talk to: started in-process from a config written to a temp
// folder; `close()` stops it, removes the folder, and asserts it logged no errors.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type RunningDevIdp, startDevIdp } from '../../../src/dev-idp/cli.ts'

export interface InteropIdp {
  readonly idp: RunningDevIdp
  readonly issuer: URL
  close(): Promise<void>
}

export async function startInteropIdp(config: unknown, tmpPrefix: string): Promise<InteropIdp> {
  const errors: string[] = []
  const io = {
    out: () => {},
    err: (line: string) => {
      if (!line.startsWith('warning:')) errors.push(line)
    },
  }
  const tmp = mkdtempSync(join(tmpdir(), tmpPrefix))
  const file = join(tmp, 'dev-idp.json')
  writeFileSync(file, JSON.stringify(config))
  const idp = await startDevIdp(['--port', '0', '--config', file], io)
  assert.ok(idp)
  return {
    idp,
    issuer: new URL(idp.issuer),
    async close() {
      await idp.close()
      rmSync(tmp, { recursive: true, force: true })
      assert.deepEqual(errors, [], 'the dev IdP logged no errors')
    },
  }
}
