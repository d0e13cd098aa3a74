// The CLI's contact with the terminal: the streams it writes to, reading all of standard input,
// asking y/N on a terminal, and reading a secret from a terminal without echoing it.
//
// Everything takes a `CliIo`, so the commands never touch `process` and tests can hand in streams.

import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

export interface Output {
  write(text: string): unknown;
}

export type Input = Readable & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };

export interface CliIo {
  /** Data the command exists to produce: a table, a verification result, a token. */
  stdout: Output;
  /** Everything meant for the human: progress, warnings, next steps, errors. Never a token. */
  stderr: Output;
  stdin: Input;
  env: Readonly<Record<string, string | undefined>>;
}

/** Reads standard input to its end (bounded: a token is 50 characters, a pasted file is not). */
export async function readAll(input: Readable, limitBytes = 64 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of input) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += b.length;
    if (size > limitBytes) throw new Error(`standard input is larger than ${limitBytes} bytes`);
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Asks `question [y/N] ` on a terminal and resolves true only for y/yes. Enter, anything else,
 * Ctrl-C and Ctrl-D all mean no.
 */
export function confirm(io: CliIo, question: string): Promise<boolean> {
  return new Promise((resolve) => {
    const rl = createInterface({
      input: io.stdin,
      output: io.stderr as NodeJS.WritableStream,
      terminal: true,
    });
    let answered = false;
    const finish = (yes: boolean) => {
      if (answered) return;
      answered = true;
      rl.close();
      resolve(yes);
    };
    rl.on('SIGINT', () => {
      io.stderr.write('\n');
      finish(false);
    });
    rl.on('close', () => finish(false));
    rl.question(`${question} [y/N] `, (answer) => finish(/^\s*y(es)?\s*$/i.test(answer)));
  });
}

/**
 * Reads one line from a terminal with echo off (the token does not appear on screen, nor in the
 * terminal's scrollback). Resolves undefined on Ctrl-C or Ctrl-D on an empty line.
 */
export function readSecretLine(io: CliIo, prompt: string): Promise<string | undefined> {
  const input = io.stdin;
  return new Promise((resolve) => {
    let line = '';
    // Echo goes off before the prompt shows: whoever answers the prompt at once (a person pasting
    // quickly, or a script) must not see the token echoed back.
    input.setRawMode?.(true);
    io.stderr.write(prompt);
    const done = (value: string | undefined) => {
      input.off('data', onData);
      input.setRawMode?.(false);
      input.pause();
      io.stderr.write('\n');
      resolve(value);
    };
    const onData = (chunk: Buffer | string) => {
      for (const ch of typeof chunk === 'string' ? chunk : chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done(line);
        if (ch === '\u0003') return done(undefined);
        if (ch === '\u0004') return done(line === '' ? undefined : line);
        if (ch === '\u007f' || ch === '\b') line = line.slice(0, -1);
        else if (ch >= ' ') line += ch;
      }
    };
    input.on('data', onData);
    input.resume();
  });
}
