// What the fault tests share: operator processes whose output is kept for the leak check, the
// verifier of each, retrying writes (the API server may be down when a test writes), a sampler that
// records every token a domain's Secret held, and the exactly-once checks on a domain's status.
import { expect } from 'vitest';
import type { ScimDomain, ScimTokenRotation } from '../../../src/api/types.js';
import { apiError, waitFor } from '../../integration/support/kube.js';
import { saveOutput, startOperator, type OperatorProcess } from '../../integration/support/operator.js';
import type { Scim } from '../../integration/support/scim.js';
import { secretValue } from '../../integration/support/scim.js';
import { verify, verifierListening } from '../../integration/support/verifier.js';
import { sha256 } from '../../support/hashes.js';
import type { FaultContext } from './context.js';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Operator extends OperatorProcess {
  name: string;
  /** Base URL of its verifier (plain HTTP on loopback). */
  verifier: string;
}

/** Starts and tracks the operator processes of one test file. */
export class Operators {
  private readonly all: Operator[] = [];

  constructor(private readonly ctx: FaultContext) {}

  async start(
    name: string,
    opts: { kubeconfig?: string; env?: Record<string, string>; waitReady?: boolean } = {},
  ): Promise<Operator> {
    const proc = await startOperator({
      kubeconfig: opts.kubeconfig ?? this.ctx.kubeconfig,
      namespaces: [this.ctx.namespace],
      waitReady: opts.waitReady ?? true,
      // The fault plane ends every watch after 5–10 s (plane.ts); a watch that asks for a longer
      // timeout would override that, so ask for the same.
      args: ['--min-watch-timeout', '5s'],
      ...(opts.env ? { env: opts.env } : {}),
    });
    const verifier = (await verifierListening(proc)).verifier;
    const op: Operator = Object.assign(proc, { name, verifier });
    this.all.push(op);
    void op.exited.then(() =>
      saveOutput(this.ctx.runId, `faults-${this.ctx.namespace}-${name}`, op.output()),
    );
    return op;
  }

  /** Everything every process of this file printed, for the leak check. */
  outputs(): string[] {
    return this.all.map((op) => op.output());
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.all.map((op) => op.stop()));
  }
}

/** Retries `write` until the API server takes it; a 409 means an earlier attempt got through. */
export async function createRetrying<T>(
  description: string,
  write: () => Promise<T>,
  existing: () => Promise<T>,
  timeoutMs = 120_000,
): Promise<T> {
  return waitFor(
    description,
    async () => {
      try {
        return await write();
      } catch (err) {
        if (apiError(err).code === 409) return existing();
        throw err;
      }
    },
    { timeoutMs, intervalMs: 250 },
  );
}

export function createRotationRetrying(scim: Scim, name: string, domain: string): Promise<ScimTokenRotation> {
  return createRetrying(
    `ScimTokenRotation ${name} created`,
    () => scim.createRotation(name, { domainRef: { name: domain }, reason: 'fault test' }),
    () => scim.getRotation(name),
  );
}

/**
 * Reads the domains' Secrets every `intervalMs` and keeps every token they held, in order, so the
 * test can check at the end that all but the current one are rejected. Read errors (API server down)
 * are ignored; what happens meanwhile is seen after.
 */
export class TokenSampler {
  readonly tokens = new Map<string, string[]>();
  private timer: NodeJS.Timeout | undefined;
  private busy = false;

  constructor(
    private readonly scim: Scim,
    private readonly domains: string[],
    private readonly intervalMs = 100,
  ) {}

  start(): this {
    this.timer = setInterval(() => void this.sample(), this.intervalMs);
    return this;
  }

  async sample(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      await Promise.all(
        this.domains.map(async (d) => {
          const token = secretValue(
            await this.scim.getSecret(`${d}-scim-token`).catch(() => undefined),
            'token',
          );
          if (!token) return;
          const seen = this.tokens.get(d) ?? [];
          if (seen.at(-1) !== token && !seen.includes(token)) seen.push(token);
          this.tokens.set(d, seen);
        }),
      );
    } finally {
      this.busy = false;
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    while (this.busy) await sleep(20);
    await this.sample();
  }

  all(): string[] {
    return [...this.tokens.values()].flat();
  }
}

/** A domain whose Secret holds exactly the token its status records; returns that token. */
export async function consistentToken(
  scim: Scim,
  name: string,
): Promise<{ token: string; domain: ScimDomain }> {
  const domain = await scim.getDomain(name);
  const secret = await scim.getSecret(domain.status?.secretName ?? `${name}-scim-token`);
  const token = secretValue(secret, 'token');
  expect(token, `Secret of ${name} holds a token`).toBeDefined();
  expect(secretValue(secret, 'token-sha256')).toBe(domain.status?.token?.sha256);
  expect(sha256(token!)).toBe(domain.status?.token?.sha256);
  return { token: token!, domain };
}

/** Waits until the verifier at `url` answers `status` for `token` (its watch may lag the API server). */
export async function waitForVerdict(
  url: string,
  token: string,
  status: 200 | 401,
  description: string,
  timeoutMs = 60_000,
): Promise<void> {
  await waitFor(
    `verifier ${url}: ${description} → ${status}`,
    async () => ((await verify(url, token)).status === status ? true : undefined),
    { timeoutMs, intervalMs: 50 },
  );
}

/**
 * SPEC §2.2/§2.6 on a domain after `rotations` were applied to it: each UID recorded once in
 * appliedRotations (the write that switched the token), and the token generation advanced by exactly
 * their number.
 */
export function expectAppliedExactlyOnce(
  domain: ScimDomain,
  initialGeneration: number,
  rotations: ScimTokenRotation[],
): void {
  const applied = domain.status?.appliedRotations ?? [];
  for (const r of rotations) {
    expect(
      applied.filter((u) => u === r.metadata.uid),
      `appliedRotations of ${domain.metadata.name} holds ${r.metadata.name} once`,
    ).toHaveLength(1);
  }
  expect(new Set(applied).size).toBe(applied.length);
  expect(domain.status?.token?.generation).toBe(initialGeneration + rotations.length);
}

/**
 * SPEC §1.2 on the rotations' own statuses: each reports the token it replaced and the one it issued,
 * the new ones are distinct, and together they chain from the domain's first token to its current one.
 */
export function expectRotationsReportTheirTokens(
  domain: ScimDomain,
  initialTokenId: string,
  rotations: ScimTokenRotation[],
): void {
  const missing = rotations.filter((r) => !r.status?.newToken?.id || !r.status.previousToken?.id);
  expect(
    missing.map((r) => ({ name: r.metadata.name, status: r.status })),
    `rotations of ${domain.metadata.name} that do not report both tokens (domain lastRotation ${JSON.stringify(domain.status?.lastRotation)})`,
  ).toEqual([]);
  const newIds = rotations.map((r) => r.status!.newToken!.id);
  expect(new Set(newIds).size).toBe(rotations.length);
  expect(newIds).not.toContain(initialTokenId);
  const previousIds = rotations.map((r) => r.status!.previousToken!.id).sort();
  const current = domain.status?.token?.id;
  expect(previousIds).toEqual([initialTokenId, ...newIds].filter((id) => id !== current).sort());
}
