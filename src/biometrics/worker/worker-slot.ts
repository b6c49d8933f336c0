// One model worker per process, started when first needed (or by a step's warm()), replaced if
// its thread has died (out of memory, say); a failed start is not cached.

interface Closable {
  readonly alive: boolean;
  close(): Promise<void>;
}

export class WorkerSlot<W extends Closable> {
  private worker: Promise<W> | undefined;

  constructor(private readonly start: () => Promise<W>) {}

  async get(): Promise<W> {
    const current = await this.worker?.catch(() => undefined);
    if (current && !current.alive) this.worker = undefined;
    this.worker ??= this.start().catch((error: unknown) => {
      this.worker = undefined;
      throw error;
    });
    return this.worker;
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await (await worker?.catch(() => undefined))?.close();
  }
}
