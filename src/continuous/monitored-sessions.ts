import type { ContinuousSettings } from '../../config/schema.js';
import type { RecordStore } from '../oidc/stores/record-store.js';

const MODEL = 'MonitoredSession';

/** Why a monitored session ended (the audit reason, and the close code's name). */
export type EndedBy = 'low_confidence' | 'unusable_signal' | 'silent';

/**
 * A provider session that stays signed in only while its stream keeps confirming the person:
 * shared by every process (a stream may land on any of them, and any of them answers
 * introspection and userinfo).
 */
export interface MonitoredSession {
  sessionUid: string;
  accountId: string;
  /** The step whose template the stream is verified against (the EEG step). */
  step: string;
  /** The continuation the device holds (its id: an HMAC). */
  continuationId: string;
  /** The flow's settings for the stream (defaults fill the rest). */
  settings: ContinuousSettings;
  /** Running confidence, a natural-log LLR: the sign-in probe's until the first window. */
  confidence: number;
  /** Windows verified so far, over all streams of the session. */
  windows: number;
  state: 'waiting' | 'streaming' | 'ended';
  endedBy?: EndedBy;
  /** Epoch ms: when monitoring started, when the last frame (or the start) was seen, and of this record. */
  startedAt: number;
  lastSeenAt: number;
  updatedAt: number;
}

/** The store of monitored sessions, by provider session uid (a record per session, as long as it may live). */
export class MonitoredSessions {
  constructor(private readonly store: RecordStore) {}

  async get(sessionUid: string): Promise<MonitoredSession | undefined> {
    const extra = (await this.store.find(MODEL, sessionUid))?.extra as MonitoredSession | undefined;
    return extra?.sessionUid === sessionUid ? extra : undefined;
  }

  async save(session: MonitoredSession, ttlSeconds: number): Promise<void> {
    await this.store.upsert(MODEL, session.sessionUid, { extra: { ...session, updatedAt: Date.now() } }, ttlSeconds);
  }
}
