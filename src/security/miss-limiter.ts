import type { RateCounter } from './rate-counter.js';

/**
 * Per-source limit on wrong guesses of a bearer secret (capture codes, stream credentials): after
 * `maxMisses` in `windowSeconds` from one IP, that IP is refused until the window resets.
 */
export class MissLimiter {
  constructor(
    private readonly counter: RateCounter,
    private readonly name: string,
    private readonly maxMisses: number,
    private readonly windowSeconds: number,
  ) {}

  private key = (ip: string) => `${this.name}:miss:${ip}`;

  /** Seconds to wait when this source is refused now; undefined when it may try. */
  async retryAfter(ip: string): Promise<number | undefined> {
    const [misses] = await this.counter.peek([this.key(ip)]);
    if (!misses || misses.count < this.maxMisses) return undefined;
    return Math.max(1, Math.ceil((misses.resetAt - Date.now()) / 1000));
  }

  async miss(ip: string): Promise<void> {
    await this.counter.hit(this.key(ip), this.windowSeconds);
  }
}
