// The continuous-verification wire format: hello checks, frame decoding and every refusal code.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { montages } from '../../src/biometrics/neural/montage.js';
import { defaultQualityPolicy } from '../../src/biometrics/neural/quality.js';
import { CLOSE_CODES, encodeFrame, FrameDecoder, isRefusal, MAX_FRAME_SECONDS, MAX_REASON_BYTES, parseHello, refusal, type Hello, type Refusal } from '../../src/continuous/stream-protocol.js';

const montage = montages.consumer8;
const hello = (fields: Record<string, unknown>) => parseHello(JSON.stringify({ type: 'hello', sampleRate: 250, channels: montage.electrodes, ...fields }), montage, 128, defaultQualityPolicy);
const code = (x: unknown) => (isRefusal(x) ? x.code : 'accepted');
const opened = (fields: Record<string, unknown> = {}): Hello => {
  const h = hello(fields);
  if (isRefusal(h)) throw new Error(h.reason);
  return h;
};
const rows = (n: number, width: number, value = (i: number, c: number) => i + c / 10) => Array.from({ length: width }, (_, c) => Float32Array.from({ length: n }, (_, i) => value(i, c)));

test('the close-code table: unique, application range, the transport codes reserved as agreed', () => {
  const codes = Object.values(CLOSE_CODES);
  assert.equal(new Set(codes).size, codes.length);
  for (const c of codes) assert.ok(c >= 4000 && c <= 4999, `${c}`);
  assert.deepEqual(
    { unauthorised: 4401, wrong_session: 4403, session_over: 4404, silent: 4408, low_confidence: 4410, too_many_streams: 4429 },
    { unauthorised: CLOSE_CODES.unauthorised, wrong_session: CLOSE_CODES.wrong_session, session_over: CLOSE_CODES.session_over, silent: CLOSE_CODES.silent, low_confidence: CLOSE_CODES.low_confidence, too_many_streams: CLOSE_CODES.too_many_streams },
  );
});

test('a reason is cut to fit a close frame, on a character boundary', () => {
  const r = refusal('malformed', 'µ'.repeat(200));
  assert.ok(Buffer.byteLength(r.reason, 'utf8') <= MAX_REASON_BYTES);
  assert.ok(r.reason.endsWith('…'));
  assert.ok(!r.reason.includes('\uFFFD'));
  assert.equal(refusal('malformed', 'short').reason, 'short');
});

test('hello: channels mapped onto the montage whatever their order, spelling or extras', () => {
  const labels = ['EEG O2-REF', 'ECG', 'p8', 'Fp1', 'C4', 'T7', 'O1', 'P7', 'C3', 'FP2'];
  const h = opened({ channels: labels });
  assert.deepEqual(h.columns, [3, 9, 8, 4, 7, 2, 6, 0]);
  assert.equal(h.sampleRate, 250);
});

test('hello refusals: malformed, montage not covered, sample rate', () => {
  const bad = (text: string) => code(parseHello(text, montage, 128, defaultQualityPolicy));
  assert.equal(bad('not json'), CLOSE_CODES.malformed);
  assert.equal(bad('{"type":"frame"}'), CLOSE_CODES.malformed);
  assert.equal(bad(JSON.stringify({ type: 'hello', sampleRate: 250, channels: 'Fp1' })), CLOSE_CODES.malformed);
  assert.equal(bad(JSON.stringify({ type: 'hello', sampleRate: 250, channels: [] })), CLOSE_CODES.malformed);
  assert.equal(bad(' '.repeat(9000)), CLOSE_CODES.malformed);
  assert.equal(code(hello({ channels: montage.electrodes.slice(1) })), CLOSE_CODES.montage_not_covered);
  assert.equal(code(hello({ channels: [...montage.electrodes, 'FP1'] })), CLOSE_CODES.montage_not_covered);
  assert.equal(code(hello({ sampleRate: 250.5 })), CLOSE_CODES.sample_rate);
  assert.equal(code(hello({ sampleRate: '250' })), CLOSE_CODES.sample_rate);
  assert.equal(code(hello({ sampleRate: 64 })), CLOSE_CODES.sample_rate);
  assert.equal(code(hello({ sampleRate: 20000 })), CLOSE_CODES.sample_rate);
  // A prime rate needs a 128/9973 factor: no small rational resampler.
  assert.equal(code(hello({ sampleRate: 9973 })), CLOSE_CODES.sample_rate);
});

test('frames decode to montage-ordered samples, in sequence', () => {
  const h = opened({ channels: [...montage.electrodes].reverse() });
  const decoder = new FrameDecoder(h);
  const sent = rows(250, 8);
  const chunk = decoder.decode(encodeFrame(0, sent));
  assert.ok(!isRefusal(chunk));
  assert.equal(chunk.sequence, 0);
  // Column 7 of the frame is the montage's first electrode.
  assert.deepEqual(chunk.channels[0], sent[7]);
  assert.deepEqual(chunk.channels[7], sent[0]);
  assert.ok(!isRefusal(decoder.decode(encodeFrame(1, rows(1, 8)))));
});

test('frame refusals: garbage, non-finite, channel count, gap, repeat, too large', () => {
  const h = opened();
  const first = (frame: Uint8Array) => code(new FrameDecoder(h).decode(frame));
  assert.equal(first(new Uint8Array([1, 2])), CLOSE_CODES.malformed);
  assert.equal(first(encodeFrame(0, rows(0, 8))), CLOSE_CODES.malformed);
  assert.equal(first(encodeFrame(0, rows(10, 8, (i, c) => (i === 3 && c === 5 ? Number.NaN : 1)))), CLOSE_CODES.malformed);
  assert.equal(first(encodeFrame(0, rows(10, 8, (i) => (i === 9 ? Number.POSITIVE_INFINITY : 1)))), CLOSE_CODES.malformed);
  assert.equal(first(encodeFrame(0, rows(10, 7))), CLOSE_CODES.channel_count);
  assert.equal(first(encodeFrame(0, rows(10, 8)).subarray(0, 4 + 8 * 4 * 10 - 2)), CLOSE_CODES.channel_count);
  assert.equal(first(encodeFrame(1, rows(10, 8))), CLOSE_CODES.sequence_gap);
  assert.equal(first(encodeFrame(0, rows(MAX_FRAME_SECONDS * 250 + 1, 8))), CLOSE_CODES.frame_too_large);
  assert.equal(first(encodeFrame(0, rows(MAX_FRAME_SECONDS * 250, 8))), 'accepted');
  const decoder = new FrameDecoder(h);
  assert.ok(!isRefusal(decoder.decode(encodeFrame(0, rows(10, 8)))));
  const repeat = decoder.decode(encodeFrame(0, rows(10, 8))) as Refusal;
  assert.equal(repeat.code, CLOSE_CODES.sequence_gap);
  assert.match(repeat.reason, /frame 0 arrived where 1 was due/);
});
