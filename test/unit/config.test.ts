import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../config/load.js';

test('defaults: embedded SQLite issuer on port 3000', () => {
  const c = loadConfig({});
  assert.equal(c.issuer, 'http://localhost:3000');
  assert.deepEqual(c.storage, { sql: 'sqlite', shortLived: 'sql' });
  assert.equal(c.dataDir, './data');
  assert.equal(c.trustProxy, false);
});

test('environment variables map onto settings; PostgreSQL + Redis switch storage', () => {
  const c = loadConfig({
    PORT: '8443',
    ISSUER: 'https://id.example.com/',
    DATABASE_URL: 'postgres://u@db/tessera',
    REDIS_URL: 'redis://cache:6379',
    TESSERA_MASTER_KEY: Buffer.alloc(32, 1).toString('base64'),
    TRUST_PROXY: 'yes',
    TESSERA_OUTBOUND_ALLOWED_HOSTS: 'rp.internal, 10.0.0.5',
  });
  assert.equal(c.port, 8443);
  assert.equal(c.issuer, 'https://id.example.com');
  assert.deepEqual(c.storage, { sql: 'postgres', shortLived: 'redis' });
  assert.equal(c.trustProxy, true);
  assert.deepEqual(c.outboundAllowedHosts, ['rp.internal', '10.0.0.5']);
});

test('bad values are all reported at once, named by their variable', () => {
  assert.throws(
    () => loadConfig({ PORT: 'eighty', TRUST_PROXY: 'maybe', REDIS_URL: 'http://x', LOG_LEVEL: 'loud' }),
    (err: ConfigError) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.problems.length, 4);
      assert.match(err.message, /PORT \(port\)/);
      assert.match(err.message, /TRUST_PROXY \(trustProxy\): must be true or false/);
      assert.match(err.message, /REDIS_URL must start with redis:\/\//);
      assert.match(err.message, /LOG_LEVEL/);
      return true;
    },
  );
});

test('PostgreSQL requires an explicit master key', () => {
  assert.throws(() => loadConfig({ DATABASE_URL: 'postgres://db/x' }), /TESSERA_MASTER_KEY or TESSERA_MASTER_KEY_FILE is required/);
});

test('a config file is read, and the environment overrides it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-cfg-'));
  const file = join(dir, 'tessera.json');
  writeFileSync(file, JSON.stringify({ port: 4000, resourceServers: [{ indicator: 'https://api.example', scope: 'read' }] }));
  const c = loadConfig({ TESSERA_CONFIG: file, PORT: '5000' });
  assert.equal(c.port, 5000);
  assert.equal(c.resourceServers[0]?.accessTokenFormat, 'jwt');
  writeFileSync(file, '{"port": 4000, "bogus": 1}');
  assert.throws(() => loadConfig({ TESSERA_CONFIG: file }), /Unrecognized key.*bogus/);
  writeFileSync(file, '{not json');
  assert.throws(() => loadConfig({ TESSERA_CONFIG: file }), /is not valid JSON/);
  assert.throws(() => loadConfig({ TESSERA_CONFIG: join(dir, 'missing.json') }), /cannot read/);
});

test('face settings: threshold and challenges from the environment, bad ones named', () => {
  const c = loadConfig({ TESSERA_FACE_MATCH_THRESHOLD: '0.42', TESSERA_FACE_CHALLENGES: 'turn_left, look_up' });
  assert.equal(c.faceMatchThreshold, 0.42);
  assert.deepEqual(c.faceChallenges, ['turn_left', 'look_up']);
  assert.equal(loadConfig({}).faceMatchThreshold, 0.38, 'the calibrated default');
  assert.throws(() => loadConfig({ TESSERA_FACE_CHALLENGES: 'turn_left,blink', TESSERA_FACE_MATCH_THRESHOLD: '-1' }), (err: ConfigError) => {
    assert.equal(err.problems.length, 2);
    assert.match(err.message, /TESSERA_FACE_CHALLENGES \(faceChallenges\)\.1/);
    assert.match(err.message, /TESSERA_FACE_MATCH_THRESHOLD/);
    return true;
  });
  assert.equal(c.faceChallengeMoves, 2, 'two movements by default');
  assert.equal(loadConfig({ TESSERA_FACE_CHALLENGES: 'turn_left', TESSERA_FACE_CHALLENGE_MOVES: '1' }).faceChallengeMoves, 1);
  assert.throws(() => loadConfig({ TESSERA_FACE_CHALLENGE_MOVES: '4' }), /TESSERA_FACE_CHALLENGE_MOVES/);
  // A sequence needs two movements to alternate between.
  assert.throws(() => loadConfig({ TESSERA_FACE_CHALLENGES: 'turn_left' }), /TESSERA_FACE_CHALLENGE_MOVES \(faceChallengeMoves\): a sequence of more than one movement needs at least two/);
});

test('metrics settings: on by default; the port must differ from PORT; a short token is refused without echoing it', () => {
  const c = loadConfig({ TESSERA_METRICS_PORT: '9464', TESSERA_METRICS_TOKEN: 'a-long-enough-scrape-token' });
  assert.equal(c.metrics, true);
  assert.equal(c.metricsPort, 9464);
  assert.equal(loadConfig({ TESSERA_METRICS: 'false' }).metrics, false);
  assert.throws(() => loadConfig({ PORT: '9464', TESSERA_METRICS_PORT: '9464' }), /TESSERA_METRICS_PORT must differ from PORT/);
  assert.throws(
    () => loadConfig({ TESSERA_METRICS_TOKEN: 'short-secret' }),
    (err: ConfigError) => /at least 16 characters/.test(err.message) && !err.message.includes('short-secret'),
  );
});
