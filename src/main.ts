import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { AggregatorRegistry } from 'prom-client';
import { ConfigError, loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { createLogger, type Logger } from './log.js';
import { listenForMetrics, metricsRouter } from './metrics/metrics-endpoint.js';
import { sqliteFile } from './db/database.js';
import { openServices } from './services.js';
import { startTessera } from './tessera.js';

function describeStorage(config: Config): string {
  const sql = config.databaseUrl ? `PostgreSQL (${new URL(config.databaseUrl).host})` : `SQLite (${sqliteFile(config)})`;
  const shortLived = config.redisUrl ? `Redis (${new URL(config.redisUrl).host})` : 'SQL';
  return `${sql}; sessions, codes and counters in ${shortLived}`;
}

async function serve(config: Config, log: Logger, role: 'single' | 'worker'): Promise<void> {
  const services = await openServices(config, log, { migrate: role === 'single' });
  if (services.masterKey.origin === 'generated-file') {
    log.warn({ path: services.masterKey.path }, 'generated a master key file; back it up, or set TESSERA_MASTER_KEY for production');
  }
  const tessera = await startTessera(config, log, { services, metricsByPrimary: role === 'worker' && config.metricsPort !== undefined });
  if (role === 'single' || cluster.worker?.id === 1) {
    log.info({ issuer: config.issuer, storage: describeStorage(config), discovery: `${config.issuer}/.well-known/openid-configuration` }, 'Tessera is serving');
    console.error(`Tessera issuer ${config.issuer}\n  storage:   ${describeStorage(config)}\n  discovery: ${config.issuer}/.well-known/openid-configuration`);
  }
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: finishing in-flight requests');
    tessera.stop().then(
      () => process.exit(0),
      (err: Error) => {
        log.error({ err }, 'unclean shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

/** The workers' registries, summed by the primary: one scrape on the metrics port sees the whole cluster. */
function serveClusterMetrics(config: Config, port: number) {
  const aggregator = new AggregatorRegistry();
  return listenForMetrics(metricsRouter({ contentType: aggregator.contentType, metrics: () => aggregator.clusterMetrics() }, config.metricsToken), port, config.host);
}

/** The primary prepares the shared stores once, then runs one worker per core. */
async function supervise(config: Config, log: Logger, workers: number): Promise<void> {
  const services = await openServices(config, log);
  await services.keys.ensure();
  await services.close();
  const metricsServer = config.metrics && config.metricsPort ? await serveClusterMetrics(config, config.metricsPort) : undefined;
  for (let i = 0; i < workers; i++) cluster.fork();
  let stopping = false;
  cluster.on('exit', (worker, code) => {
    if (stopping) return;
    log.error({ worker: worker.id, code }, 'worker exited; starting another');
    cluster.fork();
  });
  const stop = () => {
    stopping = true;
    metricsServer?.close();
    metricsServer?.closeAllConnections();
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config.logLevel);
  const workers = config.workers === 'auto' ? availableParallelism() : config.workers;
  if (cluster.isPrimary && workers > 1) return supervise(config, log, workers);
  return serve(config, log, cluster.isPrimary ? 'single' : 'worker');
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
