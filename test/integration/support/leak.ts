// The leak check of SPEC §3: no token this test file saw (or that still sits in one of its
// Secrets) appears in the operator's output, in an Event, or in any ScimDomain/rotation object.
import { expect } from 'vitest';
import type { Cluster } from './kube.js';
import { GROUP, VERSION } from './kube.js';
import { secretValue, seenTokens } from './scim.js';

export async function assertNoTokenLeaks(
  c: Cluster,
  namespaces: string[],
  outputs: string[],
): Promise<number> {
  const tokens = new Set(seenTokens);
  const haystacks: string[] = [...outputs];
  for (const namespace of namespaces) {
    for (const s of (await c.core.listNamespacedSecret({ namespace })).items) {
      const t = secretValue(s, 'token');
      if (t) tokens.add(t);
    }
    haystacks.push(JSON.stringify((await c.core.listNamespacedEvent({ namespace })).items));
    for (const plural of ['scimdomains', 'scimtokenrotations']) {
      haystacks.push(
        JSON.stringify(
          await c.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural }),
        ),
      );
    }
  }
  expect(tokens.size).toBeGreaterThan(0);
  const all = haystacks.join('\n');
  const leaked = [...tokens].filter((t) => all.includes(t));
  expect(leaked.map((t) => `${t.slice(0, 6)}…`)).toEqual([]);
  // The shape alone must not appear either: nothing token-like is printed, redacted or not.
  expect(all).not.toMatch(/sct_[0-9A-Za-z]{46}/);
  return tokens.size;
}
