/**
 * Remembers lookups for a short time so hot paths (every token request, every sign-in)
 * skip the database, while a change made elsewhere still takes effect within `ttlMs`.
 * The promise is cached, so concurrent lookups of one key share a single query.
 */
export class RecentLookups<V> {
  private readonly entries = new Map<string, { at: number; value: Promise<V> }>();

  constructor(
    private readonly load: (key: string) => Promise<V>,
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  get(key: string): Promise<V> {
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && now - hit.at < this.ttlMs) return hit.value;
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    const value = this.load(key);
    this.entries.set(key, { at: now, value });
    value.catch(() => this.entries.delete(key));
    return value;
  }

  /** Takes a value just read another way (no query needed for the next moment). */
  remember(key: string, value: V): void {
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(key, { at: Date.now(), value: Promise.resolve(value) });
  }

  /** Drops a key after a change made through this process. */
  forget(key: string): void {
    this.entries.delete(key);
  }
}
