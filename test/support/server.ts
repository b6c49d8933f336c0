import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { loadConfig } from '../../config/load.js';
import type { Config } from '../../config/schema.js';
import { createLogger } from '../../src/log.js';
import { startTessera, type Tessera } from '../../src/tessera.js';
import type { Backend } from './backends.js';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface TestServer extends Tessera {
  issuer: string;
  config: Config;
  env: Record<string, string>;
}

/** Starts an in-process Tessera on a free loopback port with the backend's stores. */
export async function startTestServer(backend: Backend, env: Record<string, string> = {}): Promise<TestServer> {
  const port = await freePort();
  const fullEnv = {
    PORT: String(port),
    HOST: '127.0.0.1',
    ISSUER: `http://127.0.0.1:${port}`,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    TESSERA_MASTER_KEY: randomBytes(32).toString('base64'),
    TESSERA_KEY_PUBLISH_LEAD_SECONDS: '0',
    TESSERA_SHUTDOWN_GRACE_SECONDS: '2',
    ...backend.env,
    ...env,
  };
  const config = loadConfig(fullEnv);
  const tessera = await startTessera(config, createLogger(config.logLevel));
  return { ...tessera, issuer: config.issuer, config, env: fullEnv };
}
