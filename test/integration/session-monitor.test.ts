// Silence of a monitored session on real stores, with two monitors standing for two processes
// sharing them: the process that armed the session keeps watching while another one holds the
// stream, so the session still ends when that one dies; with no process watching at all, a
// refresh (hasEnded) is what ends it.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../../config/load.js';
import { MonitoredSessions } from '../../src/continuous/monitored-sessions.js';
import { SessionMonitor, SYNC_INTERVAL_MS } from '../../src/continuous/session-monitor.js';
import { StreamCredentials } from '../../src/continuous/stream-credentials.js';
import { createLogger } from '../../src/log.js';
import { openServices, type Services } from '../../src/services.js';
import { BACKENDS, type Backend } from '../support/backends.js';

const SILENCE_SECONDS = 1;
// A silent session is judged on the shared record, which may lag a stream by SYNC_INTERVAL_MS.
const JUDGED_AFTER_MS = SILENCE_SECONDS * 1000 + SYNC_INTERVAL_MS;

for (const makeBackend of BACKENDS) {
  describe(`session monitor: silence (${makeBackend.name === 'sqliteBackend' ? 'SQLite' : 'PostgreSQL + Redis'})`, () => {
    let backend: Backend;
    let s: Services;
    const monitors: SessionMonitor[] = [];
    const announced: string[] = [];
    /** A process's monitor on the shared stores. */
    const processMonitor = () => {
      const monitor = new SessionMonitor({
        sessions: new MonitoredSessions(s.shortLivedRecords),
        credentials: new StreamCredentials(s.shortLivedRecords, randomBytes(32).toString('base64url'), 60),
        storage: s.storage,
        announceEnded: async (sessions) => void announced.push(...sessions.map((p) => String(p.uid))),
        audit: s.audit,
        log: createLogger('silent'),
        sessionTtlSeconds: 3600,
        defaults: { floor: -6, silenceSeconds: SILENCE_SECONDS },
      });
      monitors.push(monitor);
      return monitor;
    };
    const request = (continuationId: string) => ({ step: 'neural', continuationId, llr: 3, settings: { silenceSeconds: SILENCE_SECONDS } });
    const endedSilent = async (sessionUid: string) => {
      await s.audit.flush();
      return (await s.audit.query({ type: 'session.ended', limit: 50 })).some((e) => (e.details as { session?: string; reason?: string }).session === sessionUid && (e.details as { reason?: string }).reason === 'silent');
    };

    before(async () => {
      backend = await makeBackend();
      s = await openServices(loadConfig({ ...backend.env, TESSERA_MASTER_KEY: randomBytes(32).toString('base64'), LOG_LEVEL: 'silent' }), createLogger('silent'));
    });
    after(async () => {
      for (const monitor of monitors) monitor.close();
      await s.close();
      await backend.dispose();
    });

    test('the arming process keeps watching while another holds the stream, and ends the session once that one dies', async () => {
      const armedHere = processMonitor();
      const streamHolder = processMonitor();
      await armedHere.arm('session-a', 'account-a', request('continuation-a'));
      // The other process streams for longer than the first silence check of the arming one...
      const streamUntil = Date.now() + JUDGED_AFTER_MS + 1500;
      while (Date.now() < streamUntil) {
        const session = (await streamHolder.live('session-a'))!;
        assert.ok(session, 'a streamed session lives');
        await streamHolder.update({ ...session, state: 'streaming', lastSeenAt: Date.now(), windows: session.windows + 1 });
        await sleep(300);
      }
      assert.equal(await endedSilent('session-a'), false);
      // ...then dies: nobody reads the session, yet the arming process ends it.
      streamHolder.close();
      const deadline = Date.now() + JUDGED_AFTER_MS + 2000;
      while (Date.now() < deadline && !(await endedSilent('session-a'))) await sleep(200);
      assert.ok(await endedSilent('session-a'), 'ended as silent without anyone reading it');
      assert.equal(await armedHere.hasEnded('session-a'), true);
    });

    test('with no process watching, asking whether it has ended ends a silent session (a refresh does this)', async () => {
      const gone = processMonitor();
      await gone.arm('session-b', 'account-b', request('continuation-b'));
      assert.equal(await gone.hasEnded('session-b'), false, 'not silent yet');
      gone.close();
      const asker = processMonitor();
      assert.equal(await asker.hasEnded('never-monitored'), false);
      await sleep(JUDGED_AFTER_MS + 300);
      assert.equal(await endedSilent('session-b'), false, 'nothing watched it');
      assert.equal(await asker.hasEnded('session-b'), true);
      assert.ok(await endedSilent('session-b'));
    });
  });
}
