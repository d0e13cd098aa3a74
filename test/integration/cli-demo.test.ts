// `npm run demo` (scripts/demo.sh), checked by its output the way CI and a newcomer see it.
//
// It runs against the control plane the suite already uses — `cluster.sh up` inside the script
// reuses it — rather than a second control plane in its own SCIM_CLUSTER_DIR: that would cost a
// minute of start-up and another etcd + kube-apiserver on a 2-core runner, and what the demo adds
// (admission policy, operator, kubectl scim, the verifier) is the same either way. What must not be
// shared is isolated through the script's environment: its own namespace (which its operator alone
// watches), domain, ports, pid file and log. The first start and build of the control plane is
// covered by global-setup and `npm run cluster:up` itself.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { useTestNamespace } from './support/context.js';
import { ROOT } from './support/kube.js';
import { assertNoTokenLeaks } from './support/leak.js';
import { Scim, secretValue, seenTokens } from './support/scim.js';

const ctx = useTestNamespace('demo');
const dir = mkdtempSync(path.join(os.tmpdir(), 'scim-demo-'));
const TOKEN = /sct_[0-9A-Za-z]{46}/g;
const outputs: string[] = [];

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/** Runs scripts/demo.sh with stdout and stderr merged, as a terminal shows them. */
async function runDemo(): Promise<{ code: number; output: string }> {
  const env = {
    ...process.env,
    SCIM_DEMO_DIR: dir,
    SCIM_DEMO_NAMESPACE: ctx.namespace,
    SCIM_DEMO_DOMAIN: `demo-${ctx.runId}.example`,
    SCIM_DEMO_VERIFY_ADDR: `127.0.0.1:${await freePort()}`,
    SCIM_DEMO_METRICS_ADDR: `127.0.0.1:${await freePort()}`,
  };
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', 'exec bash scripts/demo.sh 2>&1'], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => {
      outputs.push(output);
      for (const t of output.match(TOKEN) ?? []) seenTokens.add(t);
      resolve({ code: code ?? 1, output });
    });
  });
}

/** Lines of the output in order: each pattern must match a line after the previous match. */
function expectInOrder(output: string, patterns: (string | RegExp)[]): void {
  const lines = output.split('\n');
  let at = 0;
  for (const p of patterns) {
    const i = lines.findIndex((l, n) => n >= at && (typeof p === 'string' ? l.includes(p) : p.test(l)));
    expect(i, `expected ${String(p)} after line ${at} of:\n${output}`).toBeGreaterThanOrEqual(0);
    at = i + 1;
  }
}

/** The tokens in the output, each required to stand alone on the line after "… copy it now:". */
function printedTokens(output: string): string[] {
  const lines = output.split('\n');
  return lines.flatMap((l, i) => {
    if (!/sct_[0-9A-Za-z]{46}/.test(l)) return [];
    expect(lines[i - 1], 'a token is printed only right after "copy it now:"').toMatch(/copy it now:$/);
    expect(l).toMatch(/^sct_[0-9A-Za-z]{46}$/);
    return [l];
  });
}

const operatorLog = () => {
  const file = path.join(dir, 'logs/operator.log');
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
};

afterAll(() => {
  // The demo leaves its operator running by design; this test started it, so it stops it by its pid.
  const pidFile = path.join(dir, 'operator.pid');
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, 'utf8'));
    if (pid > 0) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
  }
});

// The demo is the local mode: it starts (or reuses) the local control plane, not a cluster given
// through SCIM_TEST_KUBECONFIG.
describe.skipIf(Boolean(process.env.SCIM_TEST_KUBECONFIG))('npm run demo', () => {
  // ctx is filled in by beforeAll, so names are computed when a test runs, not when it is collected.
  const name = () => `demo-${ctx.runId}-example`;

  it(
    'shows the whole lifecycle, leaves it running and says how to explore and stop',
    { timeout: 300_000 },
    async () => {
      const { code, output } = await runDemo();
      expect(code, output).toBe(0);
      expectInOrder(output, [
        '==> Starting the local Kubernetes control plane',
        'scim-token-operator-rotate serverside-applied',
        '==> Building the operator and kubectl-scim',
        `==> Starting the operator (watching namespace ${ctx.namespace})`,
        /^operator ready \(pid \d+/,
        `$ kubectl scim add demo-${ctx.runId}.example --idp EntraID --scim-base-url https://app.example.com/scim/v2 -n ${ctx.namespace}`,
        `ScimDomain ${ctx.namespace}/${name()} created`,
        'copy it now:',
        /^sct_/,
        'Next steps: set up SCIM provisioning',
        'Tenant URL to https://app.example.com/scim/v2',
        `$ kubectl scim domains -n ${ctx.namespace}`,
        /^NAMESPACE\s+NAME\s+DOMAIN/,
        new RegExp(
          `^${ctx.namespace}\\s+${name()}\\s+demo-${ctx.runId}\\.example\\s+EntraID\\s+True\\s+TokenIssued`,
        ),
        '$ curl -H "Authorization: Bearer <the token>"',
        'HTTP 200: accepted',
        `X-Scim-Domain: demo-${ctx.runId}.example`,
        `$ kubectl scim rotate ${name()} --yes -n ${ctx.namespace}`,
        'stops working immediately',
        'Rotated: the previous token',
        'copy it now:',
        /^sct_/,
        'Next steps: replace the token',
        '$ curl -H "Authorization: Bearer <the old token>"',
        'HTTP 401: rejected, reason "revoked"',
        '$ curl -H "Authorization: Bearer <the new token>"',
        'HTTP 200: accepted',
        '==> Done. Everything is still running',
        'export KUBECONFIG=',
        `kubectl scim token ${name()} -n ${ctx.namespace} | kubectl scim verify`,
        'npm run demo:down',
      ]);
      const tokens = printedTokens(output);
      expect(tokens).toHaveLength(2);
      expect(tokens[0]).not.toBe(tokens[1]);
      const secret = await new Scim(ctx, ctx.namespace).getSecret(`${name()}-scim-token`);
      expect(secretValue(secret, 'token')).toBe(tokens[1]);
    },
  );

  it(
    'runs again on top of the first run: reuses the domain, restarts its operator, rotates once more',
    { timeout: 300_000 },
    async () => {
      const { code, output } = await runDemo();
      expect(code, output).toBe(0);
      expectInOrder(output, [
        /^an operator from an earlier demo is running \(pid \d+\); restarting it on the fresh build$/,
        `ScimDomain ${ctx.namespace}/${name()} exists from an earlier demo; using it`,
        'HTTP 200: accepted',
        'Rotated: the previous token',
        'HTTP 401: rejected, reason "revoked"',
        '==> Done.',
      ]);
      expect(printedTokens(output)).toHaveLength(1);
    },
  );

  it('prints no token anywhere else: not in its own lines, nor in the operator log, Events or statuses', async () => {
    const withoutPrinted = outputs.map((o) =>
      o
        .split('\n')
        .filter((l) => !/^sct_[0-9A-Za-z]{46}$/.test(l))
        .join('\n'),
    );
    const n = await assertNoTokenLeaks(ctx, [ctx.namespace], [operatorLog(), ...withoutPrinted]);
    expect(n).toBeGreaterThanOrEqual(3);
  });
});
