// The demo keeps its sessions in SQLite: a sign-in survives a restart of the process.
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { freePort } from '../helpers/net.ts'
import { startDemo } from './helpers/demo-process.ts'
import { HttpBrowser, readForm } from './helpers/path-jar.ts'

describe('the demo across a restart', () => {
  it('still knows alice after the process is stopped and started again', async () => {
    const env = {
      DEMO_DATA_DIR: mkdtempSync(join(tmpdir(), 'authkestra-demo-restart-')),
      PORT: String(await freePort()),
    }
    const first = await startDemo(env)
    const browser = new HttpBrowser(first.origin)
    try {
      const start = await browser.request('/auth/login/authkestra?returnTo=/profile')
      const toOp = await browser.request(new URL(start.headers.get('location') ?? ''))
      const interaction = new URL(toOp.headers.get('location') ?? '', first.origin)
      const form = readForm((await browser.page(interaction)).html, interaction)
      const signedIn = await browser.post(form.action, {
        ...form.fields,
        username: 'alice',
        password: 'wonderland',
      })
      const landed = await browser.request(
        new URL(signedIn.headers.get('location') ?? '', first.origin),
      )
      assert.equal(landed.headers.get('location'), '/profile')
      assert.match((await browser.page('/profile')).html, /Alice Liddell/)
    } finally {
      await first.stop()
    }
    const second = await startDemo(env)
    try {
      assert.equal(second.origin, first.origin)
      const { response, html } = await browser.page('/profile')
      assert.equal(response.status, 200)
      assert.match(html, /Alice Liddell/)
    } finally {
      await second.stop()
    }
  })
})
