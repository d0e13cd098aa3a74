// Read-your-writes for informer caches: after this process writes an object it remembers the
// resourceVersion it got back, and reconciles of that key wait until the cache has caught up,
// instead of planning from a stale copy and losing a conflict (controller-runtime users know this
// as "expectations"). The watch often delivers our own write before the write's response arrives,
// so the last few versions seen per key are kept too.

const RECENT = 4;

export class Expectations {
  private readonly pending = new Map<string, { resourceVersion: string; at: number }>();
  private readonly recent = new Map<string, string[]>();

  constructor(
    private readonly now: () => number,
    private readonly maxWaitMs = 5_000,
  ) {}

  expect(key: string, resourceVersion: string): void {
    if (this.recent.get(key)?.includes(resourceVersion)) return;
    this.pending.set(key, { resourceVersion, at: this.now() });
  }

  /** Called for every object the informer delivers. */
  observe(key: string, resourceVersion: string | undefined): void {
    if (resourceVersion === undefined) return;
    const seen = this.recent.get(key) ?? [];
    seen.push(resourceVersion);
    if (seen.length > RECENT) seen.shift();
    this.recent.set(key, seen);
    if (this.pending.get(key)?.resourceVersion === resourceVersion) this.pending.delete(key);
  }

  forget(key: string): void {
    this.pending.delete(key);
    this.recent.delete(key);
  }

  /** True while the cache may still hold an object older than our own last write. */
  waiting(key: string): boolean {
    const p = this.pending.get(key);
    if (!p) return false;
    if (this.now() - p.at > this.maxWaitMs) {
      this.pending.delete(key);
      return false;
    }
    return true;
  }
}
