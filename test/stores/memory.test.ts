// The conformance suite against the in-memory stores.
import { createMemorySessionStore } from '../../src/engine/sessions/memory.ts'
import { createMemoryOpStore } from '../../src/op/store/memory.ts'
import { storeConformance } from './conformance.ts'

storeConformance('memory', async (clock) => {
  const sessions = createMemorySessionStore({ clock })
  const op = createMemoryOpStore({ clock })
  return {
    sessions,
    op,
    async close() {
      sessions.close()
      op.close()
    },
  }
})
