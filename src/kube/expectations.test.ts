import { describe, expect, it } from 'vitest';
import { Expectations } from './expectations.js';

describe('Expectations', () => {
  const make = () => {
    let t = 0;
    return { e: new Expectations(() => t, 5_000), advance: (ms: number) => (t += ms) };
  };

  it('waits after a write until the informer delivers the written version', () => {
    const { e } = make();
    e.expect('ns/a', '10');
    expect(e.waiting('ns/a')).toBe(true);
    e.observe('ns/a', '9');
    expect(e.waiting('ns/a')).toBe(true);
    e.observe('ns/a', '10');
    expect(e.waiting('ns/a')).toBe(false);
  });

  it('does not wait when the watch delivered the write before its response arrived', () => {
    const { e } = make();
    e.observe('ns/a', '10');
    e.observe('ns/a', '11');
    e.expect('ns/a', '10');
    expect(e.waiting('ns/a')).toBe(false);
  });

  it('gives up waiting after the maximum wait', () => {
    const { e, advance } = make();
    e.expect('ns/a', '10');
    advance(5_001);
    expect(e.waiting('ns/a')).toBe(false);
  });

  it('keeps keys apart and forgets deleted objects', () => {
    const { e } = make();
    e.expect('ns/a', '10');
    expect(e.waiting('ns/b')).toBe(false);
    e.forget('ns/a');
    expect(e.waiting('ns/a')).toBe(false);
  });
});
