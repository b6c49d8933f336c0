import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { stepsInUse, type Config } from '../config/schema.js';
import { ConfigError } from '../config/load.js';
import { ADMIN_PREFIX, adminRouter } from './admin/router.js';
import { createApp } from './http/app.js';
import { healthRouter } from './http/health.js';
import { Views } from './http/views.js';
import { interactionRouter } from './interaction/routes.js';
import type { Logger } from './log.js';
import { MODELS_DIR, VIEWS_DIR } from './paths.js';
import { Storage } from './oidc/adapter.js';
import { ProviderHost } from './oidc/provider-host.js';
import { CredentialThrottle } from './security/credential-throttle.js';
import { Csrf } from './security/csrf.js';
import { deriveSecret, SealedBox } from './security/sealed-box.js';
import { openServices, type Services } from './services.js';
import { createFaceStep } from './steps/face/index.js';
import { PasswordStep } from './steps/password/password-step.js';
import { StepRegistry } from './steps/registry.js';
import { TotpCredentials } from './steps/totp/totp-credentials.js';
import { TotpStep } from './steps/totp/totp-step.js';
import { FlowPolicy } from './interaction/flow-policy.js';
import { RiskSignals } from './interaction/risk-signals.js';

const PURGE_INTERVAL_MS = 60_000;

export interface Tessera {
  services: Services;
  host: ProviderHost;
  server: Server;
  url: string;
  stop(): Promise<void>;
}

/**
 * Builds and starts one server process: stores, keys, provider, routes, HTTP listener.
 * `stop` drains in-flight requests (up to the grace period) before closing the stores.
 */
export async function startTessera(config: Config, log: Logger, opts: { services?: Services } = {}): Promise<Tessera> {
  const services = opts.services ?? (await openServices(config, log));
  const { keys, accounts, audit, db, redis } = services;
  await keys.ensure();

  const storage = new Storage({
    sql: services.sqlRecords,
    shortLived: services.shortLivedRecords,
    clients: services.clients,
    onReplay(model, grantId) {
      audit.note({ type: 'token.replay_detected', outcome: 'failure', details: { model, grant_id: grantId } });
    },
  });
  const throttle = new CredentialThrottle(services.rateCounter, config.login);
  const master = services.masterKey.key;
  const face = createFaceStep(config, services, throttle, MODELS_DIR);
  // Models load at start-up only when a flow can ask for a face; otherwise on first use.
  if (stepsInUse(config).has(face.step.id)) await face.analyser.start();
  // One line per step: the engine discovers everything else through the Step interface.
  const steps = new StepRegistry([
    await PasswordStep.create(accounts, throttle, audit, log),
    new TotpStep(TotpCredentials.forMasterKey(services.db, master), throttle, audit, new SealedBox(master, 'totp-pending'), `Tessera (${new URL(config.issuer).host})`),
    face.step,
  ]);
  const policy = new FlowPolicy(config, steps);
  if (config.riskStep && !steps.get(config.riskStep)) {
    throw new ConfigError([`TESSERA_RISK_STEP (riskStep): unknown step ${config.riskStep} (known: ${steps.ids().join(', ')})`]);
  }
  async function stepUpNeeded(acrValues: string[], amr: string[], accountId: string) {
    const account = await accounts.findById(accountId);
    return !(await policy.satisfiedBy(acrValues, amr, account));
  }
  const cookieKeys = [deriveSecret(services.masterKey.key, 'cookies')];
  const views = new Views(VIEWS_DIR);
  const host = new ProviderHost({ config, storage, accounts, views, cookieKeys, stepUpNeeded }, keys, audit, log);
  await host.start(config.keysRefreshSeconds);

  let stopping = false;
  const app = createApp({
    host,
    views,
    log,
    trustProxy: config.trustProxy,
    cookieKeys,
    routers: [
      { prefixes: ['/healthz', '/readyz'], router: healthRouter(db, redis, () => stopping) },
      {
        prefixes: [`${ADMIN_PREFIX}/`],
        router: adminRouter({
          config,
          accounts,
          clients: services.clients,
          audit,
          keys,
          steps,
          validateClient: (metadata) => host.current.Client.validate(metadata),
          reloadKeys: () => host.refresh(),
          log,
        }),
      },
      {
        prefixes: ['/interaction/'],
        router: interactionRouter({
          host,
          views,
          csrf: new Csrf(deriveSecret(master, 'csrf')),
          accounts,
          steps,
          policy,
          audit,
          risk: config.riskStep
            ? {
                step: steps.require(config.riskStep),
                signals: new RiskSignals(services.db, deriveSecret(master, 'known-contexts'), config.riskSignals, config.riskFailureWindowSeconds),
              }
            : undefined,
        }),
      },
    ],
  });

  const server = createServer(app.callback());
  server.requestTimeout = 30_000;
  server.headersTimeout = 20_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  const purge = setInterval(() => {
    services.purgeExpired().catch((err: Error) => log.error({ err }, 'purge failed'));
  }, PURGE_INTERVAL_MS);
  purge.unref();

  return {
    services,
    host,
    server,
    url: `http://127.0.0.1:${port}`,
    async stop() {
      stopping = true;
      clearInterval(purge);
      host.stop();
      // Stop accepting, let in-flight requests finish, then cut idle keep-alive sockets.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const grace = new Promise<void>((resolve) => setTimeout(resolve, config.shutdownGraceSeconds * 1000).unref());
      await Promise.race([closed, grace]);
      server.closeAllConnections();
      await face.analyser.close();
      await services.close();
    },
  };
}
