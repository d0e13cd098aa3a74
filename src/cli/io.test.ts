import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readAll, readSecretLine, type CliIo } from './io.js';

function terminal(): {
  io: CliIo;
  stdin: PassThrough & { isTTY: boolean; modes: boolean[] };
  err: () => string;
} {
  let err = '';
  const modes: boolean[] = [];
  const stdin = Object.assign(new PassThrough(), {
    isTTY: true,
    modes,
    setRawMode: (m: boolean) => modes.push(m),
  });
  return {
    io: { stdout: { write: () => undefined }, stderr: { write: (s: string) => (err += s) }, stdin, env: {} },
    stdin,
    err: () => err,
  };
}

describe('readSecretLine', () => {
  it('reads up to Enter in raw mode, honours backspace, and echoes nothing', async () => {
    const t = terminal();
    const line = readSecretLine(t.io, 'Token: ');
    t.stdin.write('sct_abX\u007fc');
    t.stdin.write('\r');
    await expect(line).resolves.toBe('sct_abc');
    expect(t.err()).toBe('Token: \n');
    expect(t.stdin.modes).toEqual([true, false]);
  });

  it('resolves undefined on Ctrl-C', async () => {
    const t = terminal();
    const line = readSecretLine(t.io, '');
    t.stdin.write('sct_\u0003');
    await expect(line).resolves.toBeUndefined();
  });
});

describe('readAll', () => {
  it('reads a pipe to its end', async () => {
    const s = new PassThrough();
    s.end('abc\n');
    await expect(readAll(s)).resolves.toBe('abc\n');
  });

  it('refuses more than the limit', async () => {
    const s = new PassThrough();
    s.end('x'.repeat(20));
    await expect(readAll(s, 10)).rejects.toThrow('larger than 10 bytes');
  });
});
