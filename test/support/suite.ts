import { after, before, describe } from 'node:test';
import { BACKENDS, type Backend } from './backends.js';
import { startTestServer, type TestServer } from './server.js';

export interface SuiteContext {
  backend: Backend;
  server: TestServer;
}

/**
 * Declares the same suite once per storage backend (SQLite; PostgreSQL + Redis), each with
 * its own fresh database and a running server.
 */
export function describeOnEachBackend(
  title: string,
  body: (ctx: () => SuiteContext) => void,
  opts: { env?: Record<string, string>; setup?: (ctx: SuiteContext) => Promise<void> } = {},
): void {
  for (const makeBackend of BACKENDS) {
    const label = makeBackend.name === 'sqliteBackend' ? 'SQLite' : 'PostgreSQL + Redis';
    describe(`${title} (${label})`, () => {
      let ctx: SuiteContext | undefined;
      before(async () => {
        const backend = await makeBackend();
        const server = await startTestServer(backend, opts.env);
        ctx = { backend, server };
        await opts.setup?.(ctx);
      });
      after(async () => {
        await ctx?.server.stop();
        await ctx?.backend.dispose();
      });
      body(() => {
        if (!ctx) throw new Error('suite not started');
        return ctx;
      });
    });
  }
}
