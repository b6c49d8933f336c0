import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import Router from '@koa/router';
import Koa from 'koa';

export const METRICS_PATH = '/metrics';

/** A process's registry, or the cluster primary's aggregate of its workers' registries. */
export interface MetricsSource {
  readonly contentType: string;
  metrics(): Promise<string>;
}

// Digests have one length, so the comparison takes the same time whatever was sent.
const digest = (s: string) => createHash('sha256').update(s).digest();

/** GET /metrics in Prometheus text format; with a token, only for `Authorization: Bearer <token>`. */
export function metricsRouter(source: MetricsSource, token: string | undefined): Router {
  const wanted = token === undefined ? undefined : digest(token);
  const router = new Router();
  router.get(METRICS_PATH, async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    if (wanted) {
      const given = /^Bearer (\S+)$/i.exec(ctx.get('authorization'))?.[1] ?? '';
      if (!timingSafeEqual(digest(given), wanted)) {
        ctx.set('WWW-Authenticate', 'Bearer realm="metrics"');
        ctx.status = 401;
        ctx.body = { error: 'invalid_token', error_description: 'A valid bearer token is required for /metrics.' };
        return;
      }
    }
    try {
      const text = await source.metrics();
      ctx.type = source.contentType;
      ctx.body = text;
    } catch (err) {
      // The cluster primary could not collect every worker's registry (one starting or stopping):
      // a failed scrape, said so, rather than a partial sum that would look like a drop.
      ctx.status = 503;
      ctx.set('Retry-After', '5');
      ctx.body = { error: 'metrics_unavailable', error_description: `metrics could not be collected: ${(err as Error).message}` };
    }
  });
  return router;
}

/** The separate metrics listener (TESSERA_METRICS_PORT): /metrics and nothing else. */
export async function listenForMetrics(router: Router, port: number, host: string): Promise<Server> {
  const app = new Koa();
  app.silent = true;
  app.use(router.routes());
  const server = createServer(app.callback());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
