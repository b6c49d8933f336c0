/** Prints either JSON (for scripts) or aligned text rows (for people). */
export function print(json: boolean, data: unknown, rows?: () => string[][]): void {
  if (json || !rows) {
    process.stdout.write(JSON.stringify(data, null, json ? 2 : 0) + '\n');
    return;
  }
  const table = rows();
  const widths = table[0]?.map((_, i) => Math.max(...table.map((r) => (r[i] ?? '').length))) ?? [];
  for (const row of table) process.stdout.write(row.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd() + '\n');
}

export const iso = (ms: number | undefined) => (ms ? new Date(ms).toISOString() : '-');
