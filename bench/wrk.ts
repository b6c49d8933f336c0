import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface WrkResult {
  requestsPerSec: number;
  p50ms: number;
  p99ms: number;
  requests: number;
  non2xx: number;
  errors: number;
}

const toMs = (v: string) => {
  const m = /^([\d.]+)(us|ms|s)$/.exec(v.trim());
  if (!m) return NaN;
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 's' ? n * 1000 : n;
};

/** Runs Debian's wrk (a C load generator, so the client is not the bottleneck) with a POST body. */
export function wrkPost(url: string, body: string, headers: Record<string, string>, connections: number, seconds: number): Promise<WrkResult> {
  const script = join(tmpdir(), `tessera-wrk-${process.pid}.lua`);
  const lua = [
    'wrk.method = "POST"',
    `wrk.body = ${JSON.stringify(body)}`,
    ...Object.entries(headers).map(([k, v]) => `wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`),
  ].join('\n');
  writeFileSync(script, lua);
  const threads = Math.min(connections, 1);
  return new Promise((resolve, reject) => {
    execFile('wrk', ['-t', String(threads), '-c', String(connections), '-d', `${seconds}s`, '--latency', '-s', script, url], (err, stdout) => {
      if (err) return reject(err);
      const rps = /Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1];
      const p50 = /^\s+50%\s+(\S+)/m.exec(stdout)?.[1];
      const p99 = /^\s+99%\s+(\S+)/m.exec(stdout)?.[1];
      const total = /(\d+) requests in/.exec(stdout)?.[1];
      const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(stdout)?.[1];
      const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
      if (!rps || !p50 || !p99 || !total) return reject(new Error(`cannot parse wrk output:\n${stdout}`));
      resolve({
        requestsPerSec: Math.round(Number(rps)),
        p50ms: Number(toMs(p50).toFixed(2)),
        p99ms: Number(toMs(p99).toFixed(2)),
        requests: Number(total),
        non2xx: Number(non2xx ?? 0),
        errors: socketErrors ? socketErrors.slice(1).reduce((s, n) => s + Number(n), 0) : 0,
      });
    });
  });
}
