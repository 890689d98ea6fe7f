// DESIGN.md: JSDoc on every export, with an example. Every symbol a public subpath exports has a
// doc comment; every exported value (function, class, constant) also has an `@example`.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import ts from 'typescript'

const root = new URL('../../', import.meta.url).pathname
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as {
  exports: Record<string, string | { types: string }>
}
const entries = Object.entries(pkg.exports)
  .filter((e): e is [string, { types: string }] => typeof e[1] !== 'string')
  .map(
    ([subpath, t]) =>
      [
        subpath,
        `${root}${t.types.replace(/^\.\/dist\//, 'src/').replace(/\.d\.ts$/, '.ts')}`,
      ] as const,
  )

const program = ts.createProgram(
  entries.map(([, file]) => file),
  {
    allowImportingTsExtensions: true,
    noEmit: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
  },
)
const checker = program.getTypeChecker()

describe('public API documentation', () => {
  for (const [subpath, file] of entries) {
    it(`${subpath}: every export is documented, every exported value has an @example`, () => {
      const source = program.getSourceFile(file)
      assert.ok(source, file)
      const moduleSymbol = checker.getSymbolAtLocation(source)
      assert.ok(moduleSymbol)
      const missing: string[] = []
      for (const exported of checker.getExportsOfModule(moduleSymbol)) {
        const symbol =
          exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported
        const docs = ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim()
        const isValue =
          (symbol.flags &
            (ts.SymbolFlags.Function | ts.SymbolFlags.Class | ts.SymbolFlags.Variable)) !==
          0
        const hasExample = symbol.getJsDocTags(checker).some((tag) => tag.name === 'example')
        if (docs === '') missing.push(`${exported.name}: no doc comment`)
        else if (isValue && !hasExample) missing.push(`${exported.name}: no @example`)
      }
      assert.deepEqual(missing, [])
    })
  }
})
