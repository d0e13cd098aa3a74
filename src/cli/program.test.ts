import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { loadYaml } from '@kubernetes/client-node';
import type { ScimDomain } from '../api/types.js';
import { CliError } from './errors.js';
import type { CliIo } from './io.js';
import { runCli, type CliDeps } from './program.js';
import { openSession, type Session } from './session.js';

interface Captured {
  io: CliIo;
  out: () => string;
  err: () => string;
}

function capture(stdinText = '', isTTY = false): Captured {
  let out = '';
  let err = '';
  const stdin = Object.assign(new PassThrough(), { isTTY });
  stdin.end(stdinText);
  return {
    io: {
      stdout: { write: (s: string) => (out += s) },
      stderr: { write: (s: string) => (err += s) },
      stdin,
      env: {},
    },
    out: () => out,
    err: () => err,
  };
}

const clock = { now: () => new Date('2026-01-01T00:00:00Z'), sleep: () => Promise.resolve() };
const noCluster: CliDeps['openSession'] = () => {
  throw new Error('this test must not reach the cluster');
};

async function run(argv: string[], c = capture(), openSession = noCluster) {
  const code = await runCli(argv, { io: c.io, clock, openSession });
  return { code, out: c.out(), err: c.err() };
}

describe('kubectl scim usage', () => {
  it('prints help on --help with exit code 0', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('Usage: kubectl scim <command> [options]');
    for (const cmd of ['domains', 'add', 'rotate', 'token', 'verify']) expect(r.out).toContain(cmd);
  });

  it.each([
    [[], /Usage: kubectl scim/],
    [['bogus'], /unknown command 'bogus'/],
    [['add'], /missing required argument 'domain'/],
    [['add', 'x.example', '--idp', 'Azure'], /Allowed choices are EntraID, Okta, GoogleWorkspace, Other/],
    [['add', 'x.example', '--timeout', '30'], /--timeout: expected a duration such as 15s/],
    [['add', 'x.example', '--scim-base-url', 'http://plain'], /--scim-base-url: expected an https:\/\/ URL/],
    [['verify', '--url', 'ftp://x'], /--url: expected an http:\/\/ or https:\/\/ URL/],
  ])('exits 2 for %j with a message on stderr', async (argv, message) => {
    const r = await run(argv);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.out).toBe('');
  });

  it('exits 2 when verify gets no token on standard input', async () => {
    const r = await run(['verify'], capture('  \n'));
    expect(r.code).toBe(2);
    expect(r.err).toContain('no token on standard input');
  });

  it('calls a malformed token malformed without a cluster, exit code 1', async () => {
    const r = await run(['verify'], capture('sct_nope\n'));
    expect(r.code).toBe(1);
    expect(r.out).toContain('invalid (malformed)');
  });

  it('prints a CliError from a command as "kubectl scim: <message>" with its exit code', async () => {
    const r = await run(['domains'], capture(), () => {
      throw new CliError('no kubeconfig found: pass --kubeconfig');
    });
    expect(r.code).toBe(1);
    expect(r.err).toBe('kubectl scim: no kubeconfig found: pass --kubeconfig\n');
  });
});

describe('kubectl scim rotate without a terminal', () => {
  it('refuses without --yes (exit 2) before creating anything, after the warning', async () => {
    const ready: ScimDomain = {
      metadata: { name: 'alpha', namespace: 'ns', generation: 1 },
      spec: { domain: 'alpha.example', identityProvider: 'Okta' },
      status: {
        conditions: [
          {
            type: 'Ready',
            status: 'True',
            reason: 'TokenIssued',
            message: '',
            lastTransitionTime: '',
            observedGeneration: 1,
          },
        ],
        token: {
          id: 'tok-a',
          fingerprint: 'sha256:aaaaaaaaaaaa',
          sha256: 'a'.repeat(64),
          issuedAt: '2025-12-31T00:00:00Z',
          generation: 1,
        },
      },
    };
    let created = 0;
    const session = {
      namespace: 'ns',
      getDomain: () => Promise.resolve(ready),
      createRotation: () => {
        created++;
        return Promise.reject(new Error('must not be called'));
      },
    } as unknown as Session;
    const r = await run(['rotate', 'alpha'], capture(), () => session);
    expect(r.code).toBe(2);
    expect(r.err).toContain('stops working immediately');
    expect(r.err).toContain('This cannot be undone.');
    expect(r.err).toContain('Pass --yes');
    expect(created).toBe(0);
  });
});

describe('openSession', () => {
  const home = mkdtempSync(path.join(os.tmpdir(), 'kubectl-scim-home-'));

  it('says where it looked when there is no kubeconfig at all', () => {
    expect(() => openSession({}, { HOME: home })).toThrow(
      /no kubeconfig found: pass --kubeconfig, set KUBECONFIG/,
    );
  });

  it('names a missing --kubeconfig or KUBECONFIG file', () => {
    expect(() => openSession({ kubeconfig: path.join(home, 'nope') }, { HOME: home })).toThrow(
      /--kubeconfig: .* does not exist/,
    );
    expect(() => openSession({}, { HOME: home, KUBECONFIG: path.join(home, 'nope') })).toThrow(
      /KUBECONFIG=.*: no such file/,
    );
  });
});

describe('kubectl scim --version, rotate --dry-run, completion', () => {
  it('prints the package version with --version', async () => {
    const r = await run(['--version']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^kubectl-scim \d+\.\d+\.\d+\S* \(API scim\.tokens\.dev\/v1alpha1, Node\.js \d+/);
  });

  it('prints the rotation to commit to Git with rotate --dry-run -o yaml, without a cluster', async () => {
    const r = await run([
      'rotate',
      'contoso',
      '--dry-run',
      '-o',
      'yaml',
      '-n',
      'team-a',
      '--reason',
      'yearly',
    ]);
    expect(r.code).toBe(0);
    expect(loadYaml(r.out)).toEqual({
      apiVersion: 'scim.tokens.dev/v1alpha1',
      kind: 'ScimTokenRotation',
      metadata: { name: 'contoso-rotate-20260101-0000', namespace: 'team-a' },
      spec: { domainRef: { name: 'contoso' }, reason: 'yearly' },
    });
    expect(r.out).toMatch(/^# Rotates the token of ScimDomain contoso once/);
    expect(r.err).toContain('Not created (--dry-run)');
  });

  it('prints it as JSON with -o json, and without a namespace unless -n is given', async () => {
    const r = await run(['rotate', 'contoso', '--dry-run', '-o', 'json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ metadata: { name: 'contoso-rotate-20260101-0000' } });
    expect(JSON.parse(r.out)).not.toHaveProperty('metadata.namespace');
  });

  it.each([
    ['-o without --dry-run', ['rotate', 'contoso', '-o', 'yaml'], '-o is for --dry-run'],
    ['a --ttl that is not a duration', ['rotate', 'contoso', '--ttl', 'soon'], '--ttl'],
    ['an unknown -o format', ['domains', '-o', 'wide'], 'Allowed choices are json, yaml, name'],
    ['an unknown shell', ['completion', 'fish'], 'completion: expected one of bash, zsh'],
  ])('refuses %s as a usage error (exit 2)', async (_what, argv, message) => {
    const r = await run(argv);
    expect(r.code).toBe(2);
    expect(r.err).toContain(message);
  });

  it('prints a bash completion script for its own commands', async () => {
    const r = await run(['completion', 'bash']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('complete -F _kubectl_scim kubectl-scim');
    for (const cmd of ['domains', 'status', 'add', 'rotate', 'token', 'verify']) expect(r.out).toContain(cmd);
  });
});
