import { z } from 'zod';
import { MIN_PASSWORD_LENGTH } from '../src/accounts/accounts.js';
import { DEFAULT_MATCH_THRESHOLD } from '../src/biometrics/face/match.js';
import { DEFAULT_PAD_THRESHOLD } from '../src/biometrics/face/pad.js';
import { CHALLENGE_KINDS, DEFAULT_CHALLENGE_MOVES } from '../src/steps/face/challenge.js';
import { DEFAULT_REPLAY_SIMILARITY } from '../src/steps/neural/replay.js';

// One validated object holds every setting; the env mapping and the optional
// config file both feed it, so a bad value gets the same clear message either way.

const url = (what: string) =>
  z.string().refine((v) => URL.canParse(v), { message: `${what} must be an absolute URL` });

const positiveInt = z.coerce.number().int().positive();

// z.coerce.boolean() would read "false" as true; accept the usual spellings only.
const flag = z.preprocess((v) => {
  if (typeof v !== 'string') return v;
  const s = v.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(s)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(s)) return false;
  return v;
}, z.boolean({ message: 'must be true or false' }));

export const resourceServerSchema = z.object({
  // Resource indicator (RFC 8707): an absolute URI identifying the API.
  indicator: url('resourceServers[].indicator'),
  scope: z.string().default(''),
  audience: z.string().optional(),
  accessTokenFormat: z.enum(['jwt', 'opaque']).default('jwt'),
  signingAlg: z.enum(['ES256', 'RS256', 'EdDSA']).default('ES256'),
  accessTokenTTL: positiveInt.default(3600),
});

// Target false-accept rates a fused requirement may ask for: stronger than one matcher's own
// threshold (about 1e-2 for the EEG step), and no smaller than the calibration can speak for.
export const FUSED_FAR = { min: 1e-9, max: 1e-2 } as const;

// A flow requirement: one step, any `count` of several (e.g. 2 of totp, face, neural), or several
// biometric steps whose calibrated scores are added up into one decision at a target FAR.
// After a sign-in with a step that can keep verifying from a device's stream (the EEG step), how the
// stream is judged; each setting left out takes the default of src/continuous/continuous-policy.ts.
export const continuousSchema = z
  .object({
    floor: z.number(),
    windowsBelowFloor: z.number().int(),
    silenceSeconds: z.number(),
    windowSeconds: z.number().int(),
    hopSeconds: z.number().int(),
    halfLifeSeconds: z.number(),
    rejectedWindowsTolerated: z.number().int(),
  })
  .partial()
  .strict();

export const requirementSchema = z.union([
  // `settings`: options the step itself defines and checks (the passkey step: `aaguids`).
  z.object({ step: z.string().min(1), continuous: continuousSchema.optional(), settings: z.record(z.string(), z.unknown()).optional() }).strict(),
  z.object({ anyOf: z.array(z.string().min(1)).min(1), count: z.number().int().positive() }).strict(),
  z
    .object({
      fuse: z.array(z.string().min(1)).min(2, 'fuse needs at least two steps').max(4),
      far: z
        .number({ error: (issue) => (issue.input === undefined ? 'far (the target false-accept rate, e.g. 1e-4) is required' : 'far must be a number') })
        .min(FUSED_FAR.min, `far must be at least ${FUSED_FAR.min}`)
        .max(FUSED_FAR.max, `far must be at most ${FUSED_FAR.max} (a single matcher's threshold already gives that)`),
      // The fused step that can stream (one of them must) keeps verifying the session afterwards.
      continuous: continuousSchema.optional(),
    })
    .strict(),
]);

// A flow: its requirements in order, and whether a missing step may be set up during sign-in.
export const flowSchema = z.union([
  z.array(requirementSchema).min(1),
  z.object({ requirements: z.array(requirementSchema).min(1), enrollAtLogin: z.boolean().default(false) }).strict(),
]);

// A named restriction on what a client may register for itself (RFC 7591), attached to initial access tokens.
export const registrationPolicySchema = z
  .object({
    // Exact hostnames that redirect and post-logout redirect URIs may name; unset: any host.
    redirectUriHosts: z.array(z.string().min(1)).min(1).optional(),
    // Those URIs must use https (unset: true).
    httpsOnly: z.boolean().default(true),
    grantTypes: z.array(z.enum(['authorization_code', 'refresh_token', 'client_credentials'])).min(1).optional(),
    authMethods: z.array(z.enum(['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'])).min(1).optional(),
    // Scopes the client may list in its `scope`.
    scopes: z.array(z.string().min(1)).optional(),
  })
  .strict();

export const configSchema = z
  .object({
    port: z.coerce.number().int().min(0).max(65535).default(3000),
    host: z.string().default('0.0.0.0'),
    issuer: url('ISSUER').optional(),
    dataDir: z.string().min(1).default('./data'),
    databaseUrl: z
      .string()
      .refine((v) => /^postgres(ql)?:\/\//.test(v), {
        message: 'DATABASE_URL must start with postgres:// or postgresql://',
      })
      .optional(),
    redisUrl: z
      .string()
      .refine((v) => /^rediss?:\/\//.test(v), { message: 'REDIS_URL must start with redis:// or rediss://' })
      .optional(),
    // Redis key prefix, so several deployments (or test runs) can share one server.
    redisPrefix: z.string().default('tessera:'),
    trustProxy: flag.default(false),
    // Base64 of 32 random bytes; encrypts signing keys and client secrets at rest.
    masterKey: z.string().optional(),
    masterKeyFile: z.string().optional(),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    workers: z.union([z.literal('auto'), positiveInt]).default(1),
    // How often each process re-reads the signing keys (picks up `tessera keys rotate`).
    keysRefreshSeconds: positiveInt.default(30),
    // A new key is published this long before it may start signing.
    keyPublishLeadSeconds: z.coerce.number().int().min(0).default(3600),
    accessTokenTTL: positiveInt.default(3600),
    idTokenTTL: positiveInt.default(3600),
    refreshTokenTTL: positiveInt.default(14 * 24 * 3600),
    sessionTTL: positiveInt.default(14 * 24 * 3600),
    interactionTTL: positiveInt.default(3600),
    clientCredentialsTTL: positiveInt.default(600),
    shutdownGraceSeconds: positiveInt.default(10),
    // Prometheus /metrics: on the main port unless metricsPort is set; a bearer token when metricsToken is.
    metrics: flag.default(true),
    metricsPort: z.coerce.number().int().min(1).max(65535).optional(),
    metricsToken: z.string().min(16, { message: 'TESSERA_METRICS_TOKEN must be at least 16 characters' }).optional(),
    // The account console asks for a fresh sign-in before sensitive changes older than this.
    accountReauthSeconds: positiveInt.default(300),
    login: z
      .object({
        maxFailuresPerAccount: positiveInt.default(5),
        maxFailuresPerIp: positiveInt.default(50),
        windowSeconds: positiveInt.default(900),
        lockoutSeconds: positiveInt.default(900),
      })
      .strict()
      .prefault({}),
    // Passwords people choose (admin API, CLI, account console; README, Password policy): at least
    // this long (never under the built-in floor), at least this zxcvbn score (0–4), and refused
    // when found in the leaked-password list.
    passwordMinLength: z.coerce.number().int().min(MIN_PASSWORD_LENGTH).max(128).default(MIN_PASSWORD_LENGTH),
    passwordMinScore: z.coerce.number().int().min(0).max(4).default(3),
    passwordBreachCheck: flag.default(true),
    resourceServers: z.array(resourceServerSchema).default([]),
    // Named sign-in flows: ordered requirements on authentication steps.
    flows: z.record(z.string().min(1), flowSchema).default({
      password: [{ step: 'password' }],
      mfa: { requirements: [{ step: 'password' }, { step: 'totp' }], enrollAtLogin: true },
    }),
    // Flow used when neither the request (acr) nor the client (tessera_flow) picks one.
    defaultFlow: z.string().min(1).default('password'),
    // acr values this server supports (advertised in discovery), each mapped to the flow that achieves it.
    // Risk-based step: after the identifying step, a sign-in showing any of these signals must
    // also pass this step (when the account has it). Off unless a step is named.
    riskStep: z.string().min(1).optional(),
    riskSignals: z.array(z.enum(['new_device', 'new_network', 'recent_failures'])).default(['new_device', 'new_network', 'recent_failures']),
    riskFailureWindowSeconds: positiveInt.default(24 * 3600),
    // Face step: the decision threshold on the embedding distance (default calibrated on
    // faces-lfw-dev, models/face-recognition.md), the presentation-attack score a burst must reach
    // (models/face-pad.md), the liveness movements offered, how many a challenge asks for in a row
    // (a burst holds at most 10 frames: 3 moves at most) and how long one stays valid.
    faceMatchThreshold: z.coerce.number().positive().max(2).default(DEFAULT_MATCH_THRESHOLD),
    facePadThreshold: z.coerce.number().min(0).max(1).default(DEFAULT_PAD_THRESHOLD),
    faceChallenges: z.array(z.enum(CHALLENGE_KINDS)).min(1).default([...CHALLENGE_KINDS]),
    faceChallengeMoves: z.coerce.number().int().min(1).max(3).default(DEFAULT_CHALLENGE_MOVES),
    faceChallengeSeconds: positiveInt.default(120),
    // Passkey step (WebAuthn): how long a registration or sign-in challenge stays valid (the
    // browser's own prompt times out with it).
    passkeyChallengeSeconds: z.coerce.number().int().min(10).max(900).default(300),
    acr: z.record(z.string().min(1), z.string().min(1)).default({ 'urn:tessera:acr:password': 'password', 'urn:tessera:acr:mfa': 'mfa' }),
    // Neural-signal (EEG) step: which montage (headset kind; enrolments use its current model and
    // each template verifies with its own, src/biometrics/neural/model-catalog.ts), the accept
    // threshold (default: the template's model file's calibrated value), and the replay defence's
    // signal-correlation cut-off (measured by eval:neural-replay, models/neural.md) and memory.
    neuralModel: z.enum(['clinical19', 'consumer8']).default('clinical19'),
    neuralThreshold: z.coerce.number().min(-1).max(1).optional(),
    neuralReplaySimilarity: z.coerce.number().gt(0).max(1).default(DEFAULT_REPLAY_SIMILARITY),
    neuralReplayRetentionDays: positiveInt.default(30),
    // Seconds a one-time device capture code (e.g. an EEG headset's app posting a recording) stays valid.
    captureCodeTTL: z.coerce.number().int().min(1).max(3600).default(300),
    // Device authorization grant (RFC 8628) for input-constrained devices (EEG headsets, TVs): off
    // unless switched on; how long a device code (and its user code) stays valid, and the polling
    // interval the device is told (polling faster is answered with slow_down).
    deviceFlow: flag.default(false),
    deviceCodeTTL: z.coerce.number().int().min(1).max(3600).default(600),
    devicePollInterval: z.coerce.number().int().min(1).max(60).default(5),
    // oidc-provider refuses outbound calls (back-channel logout, jwks_uri) to loopback and
    // private addresses to prevent SSRF; hosts listed here (exact hostnames or IPs) are exempt.
    outboundAllowedHosts: z.array(z.string().min(1)).default([]),
    // OAuth features (README, OAuth features). PAR and DPoP only add options a client may use, so they are on;
    // request objects and dynamic registration change what clients may send or create, so they are off.
    pushedAuthorizationRequests: flag.default(true),
    // Every client must push its authorization requests (each client can also require it for itself).
    requirePushedAuthorizationRequests: flag.default(false),
    dpop: flag.default(true),
    // DPoP proofs must carry a server nonce (RFC 9449 §8): a proof made in advance cannot be used.
    dpopRequireNonce: flag.default(false),
    requestObjects: flag.default(false),
    // Dynamic client registration (RFC 7591/7592), always behind an initial access token.
    registration: flag.default(false),
    registrationPolicies: z.record(z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'policy names are 1–64 of A-Z a-z 0-9 _ -'), registrationPolicySchema).default({}),
  })
  .strict()
  // Consecutive moves of a challenge differ (a repeat would be one long movement).
  .refine((c) => c.faceChallengeMoves === 1 || new Set(c.faceChallenges).size >= 2, {
    path: ['faceChallengeMoves'],
    message: 'a sequence of more than one movement needs at least two faceChallenges to choose from',
  })
  .refine((c) => c.metricsPort === undefined || c.metricsPort !== c.port, {
    path: ['metricsPort'],
    message: 'TESSERA_METRICS_PORT must differ from PORT (leave it unset to serve /metrics on the main port)',
  });

export type Config = z.infer<typeof configSchema> & {
  issuer: string;
  storage: { sql: 'sqlite' | 'postgres'; shortLived: 'redis' | 'sql' };
};
export type ResourceServerConfig = z.infer<typeof resourceServerSchema>;
export type RegistrationPolicy = z.infer<typeof registrationPolicySchema>;
export type Requirement = z.infer<typeof requirementSchema>;
export type FusedRequirement = Extract<Requirement, { fuse: string[] }>;
export type ContinuousSettings = z.infer<typeof continuousSchema>;
export type FlowConfig = z.infer<typeof flowSchema>;
export const requirementsOf = (flow: FlowConfig) => (Array.isArray(flow) ? flow : flow.requirements);

