import { spawnSync } from 'node:child_process';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { completionScript } from './completion.js';
import { UsageError } from './errors.js';

// A small tree shaped like the real one (program.ts wires the real one; program.test.ts prints it).
function tree(): Command {
  const p = new Command('kubectl-scim').option('-n, --namespace <ns>').option('--kubeconfig <file>');
  p.command('domains').alias('ls').option('-A, --all-namespaces').option('-o, --output <format>');
  p.command('rotate').argument('<name>').option('--dry-run').option('--reason <text>');
  p.command('completion').argument('<shell>');
  return p;
}

/** What bash's programmable completion offers for the words typed so far (the last is being typed). */
function complete(words: string[]): string[] {
  const script = completionScript(tree(), 'bash');
  // A stand-in for the CLI, so domain names come from "the cluster" without one.
  const fake =
    'kubectl-scim() { echo "ns=$3 $4" >&2; printf "scimdomain.scim.tokens.dev/%s\\n" contoso fabrikam; }';
  const r = spawnSync(
    'bash',
    [
      '-c',
      `${fake}\n${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _kubectl_scim; printf '%s\\n' "\${COMPREPLY[@]}"`,
    ],
    { encoding: 'utf8' },
  );
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.split('\n').filter(Boolean).sort();
}

describe('completionScript', () => {
  it.each([
    ['commands', ['kubectl-scim', 'ro'], ['rotate']],
    ['an alias', ['kubectl-scim', 'l'], ['ls']],
    ['a command’s flags', ['kubectl-scim', 'rotate', 'contoso', '--d'], ['--dry-run']],
    ['global flags after a command', ['kubectl-scim', 'domains', '--kube'], ['--kubeconfig']],
    ['-o values', ['kubectl-scim', 'domains', '-o', ''], ['json', 'name', 'yaml']],
    ['domain names from the cluster', ['kubectl-scim', 'rotate', 'f'], ['fabrikam']],
    [
      'domain names after -n <namespace>',
      ['kubectl-scim', '-n', 'team-a', 'rotate', ''],
      ['contoso', 'fabrikam'],
    ],
    ['nothing more after the domain name', ['kubectl-scim', 'rotate', 'contoso', 'x'], []],
    ['shells', ['kubectl-scim', 'completion', ''], ['bash', 'zsh']],
  ])('completes %s', (_what, words, want) => {
    expect(complete(words)).toEqual(want);
  });

  it('loads bash completion into zsh first', () => {
    expect(completionScript(tree(), 'zsh')).toMatch(/^autoload -U \+X bashcompinit && bashcompinit\n/);
  });

  it('refuses an unknown shell as a usage error', () => {
    expect(() => completionScript(tree(), 'fish')).toThrow(UsageError);
  });
});
