// `authkestra dev-idp` with a `devsig` section in its config file: the file is checked (unknown
// fields named), and the running dev IdP advertises and serves device enrolment.
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { checkDevIdpConfig, DevIdpConfigError } from '../../src/dev-idp/config-file.ts'

const root = new URL('../../', import.meta.url).pathname
const children: ChildProcess[] = []
after(() => {
  for (const child of children) child.kill()
})

const CLIENTS = [{ client_id: 'a', redirect_uris: ['https://a.example/cb'] }]

describe('dev-idp devsig section', () => {
  it('is taken as createOp takes it; unknown fields and non-objects are named', () => {
    const file = checkDevIdpConfig(
      { clients: CLIENTS, devsig: { attestationTtlSeconds: 900 } },
      false,
    )
    assert.deepEqual(file.devsig, { attestationTtlSeconds: 900 })
    assert.throws(
      () => checkDevIdpConfig({ clients: CLIENTS, devsig: { ttl: 5 } }, false),
      (err: unknown) =>
        err instanceof DevIdpConfigError && /"devsig\.ttl" is not a known field/.test(err.message),
    )
    assert.throws(
      () => checkDevIdpConfig({ clients: CLIENTS, devsig: true }, false),
      (err: unknown) =>
        err instanceof DevIdpConfigError && /"devsig" must be an object/.test(err.message),
    )
  })

  it('the running dev IdP advertises the devsig endpoints and issues challenges', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'authkestra-dev-idp-devsig-'))
    const path = join(dir, 'config.json')
    writeFileSync(
      path,
      JSON.stringify({
        clients: CLIENTS,
        users: [{ username: 'alice', password: 'wonderland' }],
        devsig: { challengeTtlSeconds: 60 },
      }),
    )
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/dev-idp/main.ts', '--port', '0', '--config', path],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    children.push(child)
    const issuer = await new Promise<string>((resolve, reject) => {
      let out = ''
      child.stdout?.on('data', (d) => {
        out += d
        const m = /authkestra dev-idp ready: issuer (\S+)/.exec(out)
        if (m?.[1]) resolve(m[1])
      })
      child.on('exit', () => reject(new Error('dev-idp exited before ready')))
    })
    const meta = (await (
      await fetch(`${issuer}/.well-known/openid-configuration`)
    ).json()) as Record<string, unknown>
    assert.equal(meta.devsig_enrollment_endpoint, `${issuer}/devsig/enroll`)
    const refused = await fetch(`${issuer}/devsig/challenge`, { method: 'POST' })
    assert.equal(refused.status, 401)
    assert.equal(((await refused.json()) as { error: string }).error, 'invalid_token')
  })
})
