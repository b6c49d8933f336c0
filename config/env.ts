// The environment-variable names, mapped onto config keys. Conventional names first
// (PORT, ISSUER, DATABASE_URL, REDIS_URL, DATA_DIR); Tessera-specific ones are prefixed.
export const envMapping: Record<string, string> = {
  PORT: 'port',
  HOST: 'host',
  ISSUER: 'issuer',
  DATA_DIR: 'dataDir',
  DATABASE_URL: 'databaseUrl',
  REDIS_URL: 'redisUrl',
  TESSERA_REDIS_PREFIX: 'redisPrefix',
  TRUST_PROXY: 'trustProxy',
  TESSERA_MASTER_KEY: 'masterKey',
  TESSERA_MASTER_KEY_FILE: 'masterKeyFile',
  LOG_LEVEL: 'logLevel',
  TESSERA_WORKERS: 'workers',
  TESSERA_KEYS_REFRESH_SECONDS: 'keysRefreshSeconds',
  TESSERA_KEY_PUBLISH_LEAD_SECONDS: 'keyPublishLeadSeconds',
  TESSERA_ACCESS_TOKEN_TTL: 'accessTokenTTL',
  TESSERA_ID_TOKEN_TTL: 'idTokenTTL',
  TESSERA_REFRESH_TOKEN_TTL: 'refreshTokenTTL',
  TESSERA_SESSION_TTL: 'sessionTTL',
  TESSERA_INTERACTION_TTL: 'interactionTTL',
  TESSERA_CLIENT_CREDENTIALS_TTL: 'clientCredentialsTTL',
  TESSERA_SHUTDOWN_GRACE_SECONDS: 'shutdownGraceSeconds',
  TESSERA_RESOURCE_SERVERS: 'resourceServers',
  TESSERA_OUTBOUND_ALLOWED_HOSTS: 'outboundAllowedHosts',
  TESSERA_ACCOUNT_REAUTH_SECONDS: 'accountReauthSeconds',
  TESSERA_RISK_STEP: 'riskStep',
  TESSERA_RISK_SIGNALS: 'riskSignals',
  TESSERA_RISK_FAILURE_WINDOW_SECONDS: 'riskFailureWindowSeconds',
  TESSERA_FACE_MATCH_THRESHOLD: 'faceMatchThreshold',
  TESSERA_FACE_PAD_THRESHOLD: 'facePadThreshold',
  TESSERA_FACE_CHALLENGES: 'faceChallenges',
  TESSERA_FACE_CHALLENGE_MOVES: 'faceChallengeMoves',
  TESSERA_FACE_CHALLENGE_SECONDS: 'faceChallengeSeconds',
  TESSERA_NEURAL_MODEL: 'neuralModel',
  TESSERA_NEURAL_THRESHOLD: 'neuralThreshold',
  TESSERA_NEURAL_REPLAY_SIMILARITY: 'neuralReplaySimilarity',
  TESSERA_NEURAL_REPLAY_RETENTION_DAYS: 'neuralReplayRetentionDays',
  TESSERA_CAPTURE_CODE_TTL: 'captureCodeTTL',
  TESSERA_PAR: 'pushedAuthorizationRequests',
  TESSERA_PAR_REQUIRED: 'requirePushedAuthorizationRequests',
  TESSERA_DPOP: 'dpop',
  TESSERA_DPOP_REQUIRE_NONCE: 'dpopRequireNonce',
  TESSERA_REQUEST_OBJECTS: 'requestObjects',
  TESSERA_REGISTRATION: 'registration',
  TESSERA_REGISTRATION_POLICIES: 'registrationPolicies',
};

// Variables whose value is JSON rather than a scalar.
export const jsonEnv = new Set(['TESSERA_RESOURCE_SERVERS', 'TESSERA_REGISTRATION_POLICIES']);

// Variables holding a comma-separated list.
export const listEnv = new Set(['TESSERA_OUTBOUND_ALLOWED_HOSTS', 'TESSERA_RISK_SIGNALS', 'TESSERA_FACE_CHALLENGES']);
