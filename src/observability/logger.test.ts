import { randomBytes } from 'node:crypto';
import { describe, it, expect } from 'vitest';
import { generateToken } from '../rules/token.js';
import { REDACTED, REDACTED_TOKEN, createLogger, domainLogger, redactTokens } from './logger.js';
import type { Logger } from './logger.js';

// A logger whose output lands in memory, one string per line.
function memoryLogger(level: 'trace' | 'info' | 'warn' = 'trace'): { log: Logger; output: () => string } {
  const lines: string[] = [];
  const log = createLogger({ level, destination: { write: (line: string) => void lines.push(line) } });
  return { log, output: () => lines.join('') };
}

const base64 = (s: string): string => Buffer.from(s).toString('base64');

// Checks for the token itself, its random part alone, and the base64 form a Secret's data holds.
function expectNoTokenIn(output: string, token: string): void {
  expect(output).not.toContain(token);
  expect(output).not.toContain(token.slice(4, 44));
  expect(output).not.toContain(base64(token));
  expect(output).not.toContain(base64(token).slice(0, 40));
}

describe('createLogger redaction of fields', () => {
  const token = generateToken(randomBytes);

  it.each([
    { name: 'token', fields: { token } },
    { name: 'x.token', fields: { domain: { token } } },
    { name: 'a.b.token', fields: { a: { b: { token } } } },
    { name: 'data.token (base64, as in a Secret)', fields: { data: { token: base64(token) } } },
    { name: 'secret.data.token', fields: { secret: { data: { token: base64(token) } } } },
    { name: 'stringData', fields: { stringData: { token } } },
    { name: 'secret.stringData', fields: { secret: { stringData: { token } } } },
    { name: 'spec.token (a TokenReview)', fields: { spec: { token } } },
    { name: 'review.spec.token', fields: { review: { spec: { token } } } },
    { name: 'authorization', fields: { authorization: `Bearer ${token}` } },
    { name: 'headers.authorization', fields: { headers: { authorization: `Bearer ${token}` } } },
    { name: 'headers.Authorization', fields: { headers: { Authorization: `Bearer ${token}` } } },
    { name: 'req.headers.authorization', fields: { req: { headers: { authorization: `Bearer ${token}` } } } },
  ])('censors the field at $name as [REDACTED]', ({ fields }) => {
    const { log, output } = memoryLogger();
    log.info(fields, 'secret written');
    expectNoTokenIn(output(), token);
    expect(output()).toContain(`"${REDACTED}"`);
  });

  it.each([
    { name: 'a key nobody listed', fields: { tok: token } },
    { name: 'a deeply nested key', fields: { a: { b: { c: { d: { e: { f: token } } } } } } },
    { name: 'an array element', fields: { candidates: ['x', token] } },
    { name: 'a base64 value under an unlisted key', fields: { blob: base64(token) } },
    { name: 'a string that merely contains it', fields: { note: `copied ${token} into Entra ID` } },
  ])('scrubs a token hidden in $name', ({ fields }) => {
    const { log, output } = memoryLogger();
    log.info(fields, 'oops');
    expectNoTokenIn(output(), token);
    expect(output()).toContain(REDACTED_TOKEN);
  });

  it('keeps the other fields of the line intact', () => {
    const { log, output } = memoryLogger();
    log.info({ data: { token, 'token-id': 'tok-0123456789' } }, 'secret written');
    const line = JSON.parse(output()) as Record<string, unknown>;
    expect(line).toMatchObject({
      level: 'info',
      msg: 'secret written',
      data: { token: REDACTED, 'token-id': 'tok-0123456789' },
    });
  });
});

describe('createLogger redaction of messages', () => {
  const token = generateToken(randomBytes);

  it.each([
    { name: 'the message', write: (log: Logger) => log.info(`issued ${token}`) },
    {
      name: 'the message after an object',
      write: (log: Logger) => log.warn({ id: 'tok-1' }, `issued ${token}`),
    },
    { name: 'a %s argument', write: (log: Logger) => log.info('issued %s', token) },
    { name: 'a %o argument', write: (log: Logger) => log.info('issued %o', { value: token }) },
    { name: 'a %j argument', write: (log: Logger) => log.info('issued %j', [token]) },
    { name: 'a child binding', write: (log: Logger) => log.child({ leaked: token }).info('reconciling') },
    {
      name: 'a child binding at a listed path',
      write: (log: Logger) => log.child({ token }).info('reconciling'),
    },
  ])('scrubs a token in $name', ({ write }) => {
    const { log, output } = memoryLogger();
    write(log);
    expect(output()).not.toBe('');
    expectNoTokenIn(output(), token);
  });
});

describe('createLogger redaction of errors', () => {
  const token = generateToken(randomBytes);

  function apiError(): Error {
    const err = new Error(`secret rejected: token ${token} is invalid`) as Error & {
      body?: unknown;
      code?: number;
    };
    err.code = 422;
    err.body = { kind: 'Status', details: { data: { token: base64(token) } }, message: `bad ${token}` };
    return err;
  }

  it.each([
    { name: 'logged alone', write: (log: Logger, err: Error) => log.error(err) },
    {
      name: 'logged alone with a message',
      write: (log: Logger, err: Error) => log.error(err, 'apply failed'),
    },
    { name: 'under err', write: (log: Logger, err: Error) => log.error({ err }, 'apply failed') },
    { name: 'under error', write: (log: Logger, err: Error) => log.error({ error: err }, 'apply failed') },
    {
      name: 'as the cause of another error',
      write: (log: Logger, err: Error) =>
        log.error({ err: new Error('reconcile failed', { cause: err }) }, 'x'),
    },
    {
      name: 'inside an AggregateError',
      write: (log: Logger, err: Error) =>
        log.error({ err: new AggregateError([err], 'several failed') }, 'x'),
    },
    { name: 'under an unlisted key', write: (log: Logger, err: Error) => log.error({ failure: err }, 'x') },
  ])('never prints the token of an error $name, in message, stack or body', ({ write }) => {
    const { log, output } = memoryLogger();
    const err = apiError();
    write(log, err);
    expectNoTokenIn(output(), token);
    expect(output()).toContain('secret rejected: token sct_[REDACTED] is invalid');
  });

  it('keeps the stack and extra fields of a logged error, scrubbed', () => {
    const { log, output } = memoryLogger();
    log.error({ err: apiError() }, 'apply failed');
    const line = JSON.parse(output()) as {
      err: { type: string; stack: string; code: number; body: unknown };
    };
    expect(line.err.type).toBe('Error');
    expect(line.err.stack).toMatch(/^Error: secret rejected: token sct_\[REDACTED\] is invalid\n\s+at /);
    expect(line.err.code).toBe(422);
    // pino's serializer treats any object with a string `message` (a Kubernetes Status) as error-like.
    expect(line.err.body).toMatchObject({
      kind: 'Status',
      // Too deep for the redact paths; the serializer's scrub catches the base64 form.
      details: { data: { token: REDACTED_TOKEN } },
      message: `bad ${REDACTED_TOKEN}`,
    });
  });

  it('leaves the logged error object itself unchanged', () => {
    const { log } = memoryLogger();
    const err = apiError();
    log.error({ err }, 'apply failed');
    expect(err.message).toContain(token);
  });
});

describe('createLogger', () => {
  it('writes one JSON line per call with the level name and an ISO time', () => {
    const { log, output } = memoryLogger();
    log.info('started');
    const line = JSON.parse(output()) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 'info', msg: 'started' });
    expect(line['time']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('drops lines below the configured level', () => {
    const { log, output } = memoryLogger('warn');
    log.info('quiet');
    log.warn('loud');
    expect(output()).not.toContain('quiet');
    expect(output()).toContain('loud');
  });

  it('gives each reconcile a child logger that names its ScimDomain on every line', () => {
    const { log, output } = memoryLogger();
    domainLogger(log, 'team-a', 'example').info('token issued');
    expect(JSON.parse(output())).toMatchObject({ scimdomain: 'team-a/example', msg: 'token issued' });
  });
});

describe('redactTokens', () => {
  const token = generateToken(randomBytes);
  const other = generateToken(randomBytes);

  it.each([
    { name: 'a token alone', input: token, want: REDACTED_TOKEN },
    { name: 'a token in a sentence', input: `Bearer ${token}.`, want: `Bearer ${REDACTED_TOKEN}.` },
    { name: 'two tokens', input: `${token} ${other}`, want: `${REDACTED_TOKEN} ${REDACTED_TOKEN}` },
    { name: 'a token glued to other text', input: `x${token}y`, want: `x${REDACTED_TOKEN}` },
    { name: 'a truncated token', input: token.slice(0, 30), want: REDACTED_TOKEN },
    { name: 'a base64-encoded token', input: `token: ${base64(token)}`, want: `token: ${REDACTED_TOKEN}` },
  ])('replaces $name', ({ input, want }) => {
    expect(redactTokens(input)).toBe(want);
  });

  it.each([
    { name: 'text without tokens', input: 'issued tok-0123456789 sha256:0123456789ab' },
    { name: 'a bare prefix', input: 'tokens start with sct_' },
    { name: 'a short sct_ word', input: 'sct_example' },
    { name: 'an already redacted line', input: `x ${REDACTED_TOKEN}` },
  ])('leaves $name unchanged', ({ input }) => {
    expect(redactTokens(input)).toBe(input);
  });
});
