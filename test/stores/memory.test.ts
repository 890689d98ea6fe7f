// The conformance suite against the in-memory stores.
import { createMemoryRevocationStore } from '../../src/engine/revocations/memory.ts'
import { createMemorySessionStore } from '../../src/engine/sessions/memory.ts'
import { createMemoryOpStore } from '../../src/op/store/memory.ts'
import { storeConformance } from './conformance.ts'

storeConformance('memory', async (clock) => {
  const sessions = createMemorySessionStore({ clock })
  const op = createMemoryOpStore({ clock })
  const revocations = createMemoryRevocationStore({ clock })
  return {
    sessions,
    op,
    revocations,
    async close() {
      sessions.close()
      op.close()
      revocations.close()
    },
  }
})
