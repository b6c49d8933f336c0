import Router from '@koa/router';
import type { Redis } from 'ioredis';
import { pingDatabase, type Database } from '../db/database.js';

async function timed(check: () => Promise<unknown>, timeoutMs = 2000): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timed out')), timeoutMs);
      }),
    ]);
    return 'ok';
  } catch (err) {
    return `failed: ${(err as Error).message}`;
  } finally {
    clearTimeout(timer);
  }
}

/** /healthz: the process answers. /readyz: its stores answer too (503 otherwise). */
export function healthRouter(db: Database, redis: Redis | undefined, isStopping: () => boolean): Router {
  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    const checks: Record<string, string> = { database: await timed(() => pingDatabase(db)) };
    if (redis) checks.redis = await timed(() => redis.ping());
    if (isStopping()) checks.process = 'failed: shutting down';
    const ready = Object.values(checks).every((v) => v === 'ok');
    ctx.set('Cache-Control', 'no-store');
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? 'ok' : 'unavailable', checks };
  });
  return router;
}
