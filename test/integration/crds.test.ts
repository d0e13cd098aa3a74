// The CRDs as the API server enforces them (SPEC §1): samples accepted with defaults applied,
// and every kind of bad input refused with a message that names the field.
import path from 'node:path';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { useTestNamespace } from './support/context.js';
import { GROUP, ROOT, VERSION, apiError, readManifests } from './support/kube.js';

const ctx = useTestNamespace('crd');

interface Live {
  metadata: { name: string; uid: string };
  spec: Record<string, unknown>;
}
type Obj = { apiVersion: string; kind: string; metadata: { name: string }; spec: Record<string, unknown> };
const plural = (kind: string) => (kind === 'ScimDomain' ? 'scimdomains' : 'scimtokenrotations');

let counter = 0;
const uniqueName = (base: string) => `${base}-${(counter++).toString(36)}`;

function domain(spec: Record<string, unknown>, name = uniqueName('d')): Obj {
  return { apiVersion: `${GROUP}/${VERSION}`, kind: 'ScimDomain', metadata: { name }, spec };
}
function rotation(spec: Record<string, unknown>, name = uniqueName('r')): Obj {
  return { apiVersion: `${GROUP}/${VERSION}`, kind: 'ScimTokenRotation', metadata: { name }, spec };
}

async function create(obj: Obj): Promise<Live> {
  return (await ctx.custom.createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace: ctx.namespace,
    plural: plural(obj.kind),
    body: obj,
  })) as Live;
}

async function refusal(action: () => Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await action();
  } catch (err) {
    return apiError(err);
  }
  throw new Error('the API server accepted an object it should have refused');
}

async function mergePatchSpec(obj: Obj, spec: Record<string, unknown>): Promise<unknown> {
  return ctx.custom.patchNamespacedCustomObject(
    {
      group: GROUP,
      version: VERSION,
      namespace: ctx.namespace,
      plural: plural(obj.kind),
      name: obj.metadata.name,
      body: { spec },
    },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}

describe('the samples in examples/', () => {
  const topLevel = readManifests(path.join(ROOT, 'examples')) as unknown as Obj[];
  const rotations = readManifests(path.join(ROOT, 'examples/rotations')) as unknown as Obj[];
  const samples = [...topLevel, ...rotations];

  it('include both kinds, and rotations only under examples/rotations/', () => {
    expect(new Set(samples.map((s) => s.kind))).toEqual(new Set(['ScimDomain', 'ScimTokenRotation']));
    // `kubectl apply -f examples/` must not rotate anything.
    expect(new Set(topLevel.map((s) => s.kind))).toEqual(new Set(['ScimDomain']));
    expect(new Set(rotations.map((s) => s.kind))).toEqual(new Set(['ScimTokenRotation']));
  });

  it('are all accepted by the API server, with defaults applied', async () => {
    for (const sample of samples) {
      const created = await create(sample);
      expect(created.metadata.uid, sample.metadata.name).toBeTruthy();
      if (sample.kind === 'ScimDomain') {
        expect(created.spec.suspend).toBe(false);
        expect(typeof created.spec.sendEmailInvitations).toBe('boolean');
        expect(typeof created.spec.revealOnce).toBe('boolean');
        expect(typeof created.spec.identityProvider).toBe('string');
      } else {
        expect(created.spec.suspend).toBe(false);
        expect(typeof created.spec.timeZone).toBe('string');
        expect(typeof created.spec.historyLimit).toBe('number');
      }
    }
  });

  it('fill in every ScimDomain default when only the domain is given', async () => {
    const created = await create(domain({ domain: 'minimal.example' }));
    expect(created.spec).toEqual({
      domain: 'minimal.example',
      identityProvider: 'Other',
      sendEmailInvitations: true,
      suspend: false,
      revealOnce: false,
    });
  });

  it('fill in every ScimTokenRotation default when only the domain is named', async () => {
    const created = await create(rotation({ domainRef: { name: 'minimal' } }));
    expect(created.spec).toEqual({
      domainRef: { name: 'minimal' },
      timeZone: 'UTC',
      suspend: false,
      historyLimit: 10,
    });
  });
});

describe('a ScimDomain is refused', () => {
  it.each([
    ['an uppercase domain', 'Example.com', /must be lowercase/],
    ['a wildcard', '*.example.com', /must not be a wildcard/],
    ['a trailing dot', 'example.com.', /must not end with a dot/],
    ['a single label', 'localhost', /at least two labels/],
    ['a 64-character label', `${'a'.repeat(64)}.com`, /at most 63 characters/],
    ['a scheme', 'https://example.com', /must not include a scheme/],
    ['a port', 'example.com:443', /must not include a port/],
    ['a path', 'example.com/x', /must not include a path/],
    ['an empty label', 'a..b.com', /empty label/],
    ['a 254-character domain', `${'a.'.repeat(126)}ab`, /Too long: may not be (more than|longer than) 253/],
  ])('with %s in spec.domain', async (_what, value, message) => {
    expect(value.length).toBeLessThanOrEqual(254);
    const { code, message: got } = await refusal(() => create(domain({ domain: value })));
    expect(code).toBe(422);
    expect(got).toContain('spec.domain');
    expect(got).toMatch(message);
  });

  it('when spec.domain is changed on update', async () => {
    const obj = domain({ domain: 'stays.example' });
    await create(obj);
    const { code, message } = await refusal(() => mergePatchSpec(obj, { domain: 'moved.example' }));
    expect(code).toBe(422);
    expect(message).toContain('spec.domain');
    expect(message).toMatch(/immutable/);
  });

  it('with an unknown identityProvider', async () => {
    const { code, message } = await refusal(() =>
      create(domain({ domain: 'idp.example', identityProvider: 'PingOne' })),
    );
    expect(code).toBe(422);
    expect(message).toContain('spec.identityProvider');
    expect(message).toMatch(/Unsupported value: "PingOne"/);
  });

  it.each([['http://app.example.com/scim'], ['ftp://app.example.com'], ['app.example.com/scim']])(
    'with a scimBaseUrl that is not https (%s)',
    async (url) => {
      const { code, message } = await refusal(() =>
        create(domain({ domain: 'url.example', scimBaseUrl: url })),
      );
      expect(code).toBe(422);
      expect(message).toContain('spec.scimBaseUrl');
      expect(message).toMatch(/must be an https:\/\/ URL/);
    },
  );

  it('while the same domain spelled well is accepted (the rules are not over-eager)', async () => {
    for (const ok of [
      'xn--bcher-kva.example',
      'a-b.c-d.example',
      `${'a'.repeat(63)}.com`,
      `${'a.'.repeat(125)}abc`,
    ]) {
      const created = await create(domain({ domain: ok }));
      expect(created.spec.domain).toBe(ok);
    }
  });
});

describe('a ScimTokenRotation is refused', () => {
  it('without spec.domainRef.name', async () => {
    const { code, message } = await refusal(() => create(rotation({ domainRef: {} })));
    expect(code).toBe(422);
    expect(message).toContain('spec.domainRef.name');
    expect(message).toMatch(/Required value/);
  });

  it('when a one-shot rotation spec is changed', async () => {
    const obj = rotation({ domainRef: { name: 'contoso' }, reason: 'first' });
    await create(obj);
    const { code, message } = await refusal(() => mergePatchSpec(obj, { reason: 'edited' }));
    expect(code).toBe(422);
    expect(message).toContain('spec');
    expect(message).toMatch(/one-shot rotation .* is immutable/);
  });

  it.each([[0], [101]])('with historyLimit %i', async (limit) => {
    const { code, message } = await refusal(() =>
      create(rotation({ domainRef: { name: 'contoso' }, schedule: '@daily', historyLimit: limit })),
    );
    expect(code).toBe(422);
    expect(message).toContain('spec.historyLimit');
    expect(message).toMatch(limit === 0 ? /greater than or equal to 1/ : /less than or equal to 100/);
  });

  it('with a 257-character reason', async () => {
    const { code, message } = await refusal(() =>
      create(rotation({ domainRef: { name: 'contoso' }, reason: 'x'.repeat(257) })),
    );
    expect(code).toBe(422);
    expect(message).toContain('spec.reason');
    expect(message).toMatch(/Too long/);
  });

  it('with a schedule that is not cron-shaped', async () => {
    const { code, message } = await refusal(() =>
      create(rotation({ domainRef: { name: 'contoso' }, schedule: 'every day' })),
    );
    expect(code).toBe(422);
    expect(message).toContain('spec.schedule');
  });

  it('while a scheduled rotation may still be edited (suspended, re-timed)', async () => {
    const obj = rotation({ domainRef: { name: 'contoso' }, schedule: '@daily' });
    await create(obj);
    const patched = (await mergePatchSpec(obj, { suspend: true, schedule: '0 4 * * *' })) as Live;
    expect(patched.spec).toMatchObject({ suspend: true, schedule: '0 4 * * *' });
  });
});
