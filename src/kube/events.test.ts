import type { CoreV1Api, CoreV1Event } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../observability/logger.js';
import { EventRecorder } from './events.js';

const domain = { apiVersion: 'scim.tokens.dev/v1alpha1', kind: 'ScimDomain', name: 'acme', namespace: 'ns' };

/** A createNamespacedEvent whose calls stay pending until released, counting how many overlap. */
function heldApi() {
  const written: CoreV1Event[] = [];
  const pending: (() => void)[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const api = {
    createNamespacedEvent: ({ body }: { body: CoreV1Event }) =>
      new Promise<CoreV1Event>((resolve) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        pending.push(() => {
          inFlight--;
          written.push(body);
          resolve(body);
        });
      }),
  } as unknown as CoreV1Api;
  const releaseAll = async () => {
    while (pending.length > 0) {
      for (const release of pending.splice(0)) release();
      await new Promise((r) => setImmediate(r));
    }
  };
  return { api, written, releaseAll, maxInFlight: () => maxInFlight };
}

function recorder(api: CoreV1Api, lines: string[] = []) {
  const log = createLogger({ level: 'info', destination: { write: (s: string) => void lines.push(s) } });
  return new EventRecorder(api, log, () => new Date('2026-01-01T00:00:00Z'), 'test');
}

describe('EventRecorder', () => {
  it.each([
    ['the pod name', 'scim-token-operator-6d5f7c9b8-x2k4q', 'scim-token-operator-6d5f7c9b8-x2k4q'],
    ['at most 128 characters of a longer name', 'p'.repeat(200), 'p'.repeat(128)],
  ])('reports as %s (reportingInstance)', async (_what, instance, want) => {
    const held = heldApi();
    const log = createLogger({ level: 'info', destination: { write: () => undefined } });
    const events = new EventRecorder(held.api, log, () => new Date(), instance);
    events.record(domain, 'Normal', 'TokenIssued', 'issued');
    const flushed = events.flush();
    await held.releaseAll();
    await flushed;
    expect(held.written[0]).toMatchObject({ reportingInstance: want, source: { host: want } });
  });

  it('returns at once and writes in the background; flush waits for the writes', async () => {
    const held = heldApi();
    const events = recorder(held.api);
    events.record(domain, 'Normal', 'TokenIssued', 'issued tok-0123456789');
    expect(held.written).toHaveLength(0);
    const flushed = events.flush();
    await held.releaseAll();
    await flushed;
    expect(held.written.map((e) => [e.reason, e.involvedObject.name, e.type])).toEqual([
      ['TokenIssued', 'acme', 'Normal'],
    ]);
  });

  it('writes at most 16 at once, and every one in the end', async () => {
    const held = heldApi();
    const events = recorder(held.api);
    for (let i = 0; i < 100; i++) events.record(domain, 'Normal', 'TokenIssued', `event ${i}`);
    const flushed = events.flush();
    await held.releaseAll();
    await flushed;
    expect(held.maxInFlight()).toBe(16);
    expect(held.written.map((e) => e.message)).toEqual(Array.from({ length: 100 }, (_, i) => `event ${i}`));
  });

  it('drops what does not fit in a queue of 1,000, with a warning', async () => {
    const held = heldApi();
    const lines: string[] = [];
    const events = recorder(held.api, lines);
    for (let i = 0; i < 1_020; i++) events.record(domain, 'Normal', 'TokenIssued', `event ${i}`);
    const flushed = events.flush();
    await held.releaseAll();
    await flushed;
    // 16 taken off the queue at once, 1,000 queued behind them, the last 4 dropped.
    expect(held.written).toHaveLength(1_016);
    expect(lines.filter((l) => l.includes('event queue full'))).toHaveLength(4);
  });

  it('logs a refused write without failing, and flush still resolves', async () => {
    const lines: string[] = [];
    const api = {
      createNamespacedEvent: () => Promise.reject(Object.assign(new Error('forbidden'), { code: 403 })),
    } as unknown as CoreV1Api;
    const events = recorder(api, lines);
    events.record(domain, 'Warning', 'SecretTampered', 'replaced');
    await events.flush();
    expect(
      lines.filter((l) => l.includes('could not record event') && l.includes('"code":403')),
    ).toHaveLength(1);
  });

  it('gives up waiting after the flush timeout', async () => {
    const held = heldApi();
    const events = recorder(held.api);
    events.record(domain, 'Normal', 'TokenIssued', 'never answered');
    await events.flush(50);
    expect(held.written).toHaveLength(0);
    await held.releaseAll();
  });
});
