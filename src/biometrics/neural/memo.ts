/**
 * Memoises a pure function of one key, keeping at most `limit` results (oldest evicted first).
 * Filter kernels and windows depend on the uploaded sample rate, so an unbounded cache would
 * let a client grow server memory by sending many odd rates.
 */
export function memoize<K, V>(limit: number, compute: (key: K) => V): (key: K) => V {
  const cache = new Map<K, V>();
  return (key) => {
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    const value = compute(key);
    if (cache.size >= limit) cache.delete(cache.keys().next().value as K);
    cache.set(key, value);
    return value;
  };
}
