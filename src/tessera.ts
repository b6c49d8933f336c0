import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AggregatorRegistry } from 'prom-client';
import type { Config } from '../config/schema.js';
import { ConfigError } from '../config/load.js';
import { accountRouter } from './account/router.js';
import { ACCOUNT_PREFIX } from './account/account-client.js';
import { ADMIN_PREFIX, adminRouter } from './admin/router.js';
import { createApp } from './http/app.js';
import { healthRouter } from './http/health.js';
import { Views } from './http/views.js';
import { CapturePage } from './interaction/capture-page.js';
import { CAPTURE_PREFIX, captureRouter } from './interaction/capture-routes.js';
import { DeviceCapture } from './interaction/device-capture.js';
import { ContinuousAuthentication } from './continuous/continuous-authentication.js';
import { CONTINUOUS_PREFIX } from './continuous/token-route.js';
import { FusedMatches } from './interaction/fused-matches.js';
import { interactionRouter } from './interaction/routes.js';
import type { Logger } from './log.js';
import { VIEWS_DIR } from './paths.js';
import { DeviceFlow } from './oidc/features/device-flow.js';
import { REGISTRATION_PATH } from './oidc/features/registration.js';
import { registrationThrottle } from './oidc/features/registration-throttle.js';
import { ProtocolRefusals } from './oidc/protocol-refusals.js';
import { ProviderHost } from './oidc/provider-host.js';
import { listenForMetrics, METRICS_PATH, metricsRouter } from './metrics/metrics-endpoint.js';
import { Metrics } from './metrics/metrics.js';
import { Csrf } from './security/csrf.js';
import { RefusedSubmissions } from './security/refused-submissions.js';
import { deriveKey, deriveSecret, SealedBox } from './security/sealed-box.js';
import { openServices, type Services } from './services.js';
import { FlowCatalogue } from './interaction/flow-catalogue.js';
import { FlowPolicy } from './interaction/flow-policy.js';
import { FlowStore } from './interaction/flow-store.js';
import { createSteps } from './steps/all-steps.js';
import { RiskSignals } from './interaction/risk-signals.js';

const PURGE_INTERVAL_MS = 60_000;
// How often each process re-reads the stored flows: one small query, so changes apply promptly.
const FLOW_SYNC_MS = 2_000;

export interface Tessera {
  services: Services;
  host: ProviderHost;
  server: Server;
  url: string;
  // The separate metrics listener's URL, when TESSERA_METRICS_PORT is set.
  metricsUrl?: string;
  stop(): Promise<void>;
}

/**
 * Builds and starts one server process: stores, keys, provider, routes, HTTP listener.
 * `stop` drains in-flight requests (up to the grace period) before closing the stores.
 */
export interface StartOptions {
  services?: Services;
  // A cluster worker whose metrics the primary aggregates and serves on TESSERA_METRICS_PORT.
  metricsByPrimary?: boolean;
}

export async function startTessera(config: Config, log: Logger, opts: StartOptions = {}): Promise<Tessera> {
  const services = opts.services ?? (await openServices(config, log));
  const { keys, accounts, audit, db, redis } = services;
  await keys.ensure();

  const { storage } = services;
  const master = services.masterKey.key;
  const steps = await createSteps(services);
  const capture = new DeviceCapture(services.shortLivedRecords, new SealedBox(master, 'device-capture'), deriveSecret(master, 'capture-codes'), config.captureCodeTTL);
  const policy = new FlowPolicy(config, steps);
  const flows = new FlowCatalogue(config, new FlowStore(db), steps, services.clients, log);
  await flows.sync(policy);
  if (config.riskStep && !steps.get(config.riskStep)) {
    throw new ConfigError([`TESSERA_RISK_STEP (riskStep): unknown step ${config.riskStep} (known: ${steps.ids().join(', ')})`]);
  }
  // Models cost memory: a step loads them at start only when a configured flow (or the risk step) can ask for it.
  const inUse = policy.stepsInUse();
  if (config.riskStep) inUse.add(config.riskStep);
  await Promise.all([...inUse].map((id) => steps.require(id).warm?.()));
  // Continuous authentication: the provider tells it of sign-ins (host.onAuthorized below); it tells RPs of the sessions it ends.
  const monitoring: ContinuousAuthentication = new ContinuousAuthentication(services, config, steps, (ended): Promise<void> => host.announceEnded(ended), log);
  async function stepUpNeeded(acrValues: string[], amr: string[], accountId: string, sessionUid: string | undefined): Promise<boolean> {
    const account = await accounts.findRecent(accountId);
    const monitored = async () => (sessionUid ? monitoring.signIn.active(sessionUid) : false);
    return !(await policy.satisfiedBy(acrValues, amr, account, monitored));
  }
  const cookieKeys = [deriveSecret(services.masterKey.key, 'cookies')];
  const views = new Views(VIEWS_DIR);
  const csrf = new Csrf(deriveSecret(master, 'csrf'));
  const deviceFlow = new DeviceFlow({ config, views, audit, counter: services.rateCounter });
  const host: ProviderHost = new ProviderHost(
    {
      config,
      flows: policy,
      storage,
      accounts,
      views,
      cookieKeys,
      dpopNonceSecret: deriveKey(master, 'dpop-nonces'),
      registrationThrottle: registrationThrottle(REGISTRATION_PATH, services.rateCounter, audit, log),
      stepUpNeeded,
      continuousClaim: (uid) => monitoring.monitor.claim(uid),
      monitoringEnded: (uid) => monitoring.monitor.hasEnded(uid),
      deviceFlow,
    },
    keys,
    audit,
    new ProtocolRefusals(audit, log),
    log,
  );
  host.onAuthorized((ctx) => monitoring.authorized(ctx));
  const capturePage = new CapturePage(capture, () => host.current.issuer);
  const refusals = new RefusedSubmissions(audit, services.rateCounter, log);
  await host.start(config.keysRefreshSeconds);
  // Flows changed by another process (admin API, CLI) reach this one within FLOW_SYNC_MS.
  async function syncFlows() {
    if (await flows.sync(policy)) await host.refresh();
  }
  const flowSync = setInterval(() => {
    syncFlows().catch((err: Error) => log.error({ err }, 'flow refresh failed'));
  }, FLOW_SYNC_MS);
  flowSync.unref();

  const metrics = config.metrics ? new Metrics({ db, redis, keys }) : undefined;
  if (metrics) audit.observe((event) => metrics.observeAudit(event));
  if (metrics && opts.metricsByPrimary) {
    // Constructing one installs prom-client's listener that answers the primary's requests.
    new AggregatorRegistry();
    AggregatorRegistry.setRegistries([metrics.registry]);
  }
  const metricsRoutes = metrics ? metricsRouter(metrics.registry, config.metricsToken) : undefined;
  // With its own port, /metrics is served only there (reachable by the scraper, not the public).
  const metricsServer = metricsRoutes && config.metricsPort && !opts.metricsByPrimary ? await listenForMetrics(metricsRoutes, config.metricsPort, config.host) : undefined;

  let stopping = false;
  const app = createApp({
    host,
    views,
    log,
    trustProxy: config.trustProxy,
    cookieKeys,
    metrics,
    routers: [
      ...(metricsRoutes && !config.metricsPort ? [{ prefixes: [METRICS_PATH], router: metricsRoutes }] : []),
      { prefixes: ['/healthz', '/readyz'], router: healthRouter(db, redis, () => stopping) },
      {
        prefixes: [`${ADMIN_PREFIX}/`],
        router: adminRouter({
          config,
          accounts,
          passwordPolicy: services.passwordPolicy,
          clients: services.clients,
          initialAccessTokens: services.initialAccessTokens,
          audit,
          keys,
          steps,
          storage,
          announceEnded: (ended) => host.announceEnded(ended),
          validateClient: (metadata) => host.current.Client.validate(metadata),
          reloadKeys: () => host.refresh(),
          flows,
          reloadFlows: syncFlows,
          log,
        }),
      },
      {
        prefixes: [ACCOUNT_PREFIX],
        router: accountRouter({ config, host, views, csrf, accounts, steps, audit, refusals, storage, throttle: services.throttle, passwordPolicy: services.passwordPolicy, cookieBox: new SealedBox(master, 'account-console'), capturePage, continuousClaim: (uid) => monitoring.monitor.claim(uid) }),
      },
      {
        prefixes: [`${CAPTURE_PREFIX}/`],
        router: captureRouter({ capture, continuations: monitoring.captureContinuations, counter: services.rateCounter, refusals, specFor: (id) => steps.get(id)?.deviceCapture, log }),
      },
      { prefixes: [`${CONTINUOUS_PREFIX}/`], router: monitoring.router(() => host.current.issuer) },
      {
        prefixes: ['/interaction/'],
        router: interactionRouter({
          host,
          views,
          csrf,
          accounts,
          steps,
          policy,
          audit,
          refusals,
          capturePage,
          fusion: new FusedMatches(services.throttle, audit),
          monitoring: monitoring.signIn,
          onStepOutcome: metrics && ((flow, step, outcome) => metrics.signIns.inc({ flow, step, outcome })),
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
  monitoring.attach(server);
  server.requestTimeout = 30_000;
  server.headersTimeout = 20_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  const purge = setInterval(() => {
    Promise.all([services.purgeExpired(), ...steps.ids().map((id) => steps.require(id).purgeExpired?.())]).catch((err: Error) => log.error({ err }, 'purge failed'));
  }, PURGE_INTERVAL_MS);
  purge.unref();

  return {
    services,
    host,
    server,
    url: `http://127.0.0.1:${port}`,
    metricsUrl: metricsServer && `http://127.0.0.1:${(metricsServer.address() as AddressInfo).port}`,
    async stop() {
      stopping = true;
      metricsServer?.close();
      metricsServer?.closeAllConnections();
      clearInterval(purge);
      clearInterval(flowSync);
      host.stop();
      // Stop accepting, let in-flight requests finish, then cut idle keep-alive sockets.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const grace = new Promise<void>((resolve) => setTimeout(resolve, config.shutdownGraceSeconds * 1000).unref());
      await Promise.race([closed, grace]);
      server.closeAllConnections();
      monitoring.close();
      await Promise.all(steps.ids().map((id) => steps.require(id).close?.()));
      await services.close();
    },
  };
}
