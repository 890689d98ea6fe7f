// Every ```ts block of docs/*.md, exactly as written, type-checked with the project's strict
// settings against the built package (each block is its own module), so the docs cannot drift
// from the API.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { promisify } from 'node:util'

const root = new URL('../../', import.meta.url).pathname
const built = existsSync(`${root}dist/index.js`)
const skip = built ? false : 'dist/ is not built: run `npm run build` (npm test does)'

/** The ```ts blocks of a Markdown file. */
export function tsBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1] as string)
}

describe('docs code blocks', { skip }, () => {
  it('type-check as written', async () => {
    const dir = `${root}.tmp/docs-blocks/`
    rmSync(dir, { recursive: true, force: true })
    mkdirSync(dir, { recursive: true })
    const files: string[] = []
    for (const page of readdirSync(`${root}docs`).filter((f) => f.endsWith('.md'))) {
      for (const [i, block] of tsBlocks(readFileSync(`${root}docs/${page}`, 'utf8')).entries()) {
        const name = `${page.replace(/\.md$/, '')}-${i + 1}.ts`
        writeFileSync(`${dir}${name}`, `${block}\nexport {}\n`)
        files.push(name)
      }
    }
    assert.ok(files.length >= 4, `found ${files.length} blocks`)
    writeFileSync(
      `${dir}tsconfig.json`,
      JSON.stringify({
        extends: '../../tsconfig.json',
        compilerOptions: { noEmit: true },
        include: files,
      }),
    )
    try {
      await promisify(execFile)(process.execPath, [
        `${root}node_modules/typescript/bin/tsc`,
        '-p',
        `${dir}tsconfig.json`,
      ])
    } catch (err) {
      assert.fail(
        `a docs block does not type-check:\n${(err as { stdout?: string }).stdout ?? err}`,
      )
    }
  })
})
