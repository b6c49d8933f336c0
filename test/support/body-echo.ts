import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa, { type Context } from 'koa';

/**
 * A tiny app that answers with what `read` made of the request body, or with the status and
 * message of the error it threw: body-reading code tested over real HTTP.
 */
export async function bodyEcho(read: (ctx: Context) => Promise<unknown>, options: { proxy?: boolean } = {}): Promise<{ url: string; close(): void }> {
  const app = new Koa({ proxy: options.proxy ?? false });
  app.use(async (ctx) => {
    try {
      ctx.body = await read(ctx);
    } catch (err) {
      ctx.status = (err as { status?: number }).status ?? 500;
      ctx.body = { error: (err as Error).message };
    }
  });
  const server: Server = createServer(app.callback()).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}
