// Taking over CRDs installed before the chart rendered them (from the old chart's crds/ folder, or
// `kubectl apply -f crds/`): Helm refuses objects it does not own, and the label and annotations
// docs/helm.md ("Upgrading") tells people to add make it adopt them. Checked with
// `helm upgrade --install --dry-run=server` against the real API server, whose CRDs were applied
// from crds/ by the test setup; the labels are removed again afterwards.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHART_DIR, helmBinary, kubectl, ofKind, run } from './support/chart.js';
import { useTestNamespace } from './support/context.js';
import { loadAllYaml } from '@kubernetes/client-node';

const ctx = useTestNamespace('crdadopt');
const RELEASE = 'scim-adopt';
const CRDS = ['crd/scimdomains.scim.tokens.dev', 'crd/scimtokenrotations.scim.tokens.dev'];

function dryRunUpgrade(): { status: number; stdout: string; stderr: string } {
  return run(helmBinary(), [
    'upgrade',
    '--install',
    RELEASE,
    CHART_DIR,
    '--namespace',
    ctx.namespace,
    '--dry-run=server',
    '--kubeconfig',
    ctx.kubeconfig,
    // Only the CRDs are at stake here; the cluster-scoped roles and policies may already exist in
    // this shared API server (applied by other test files), which Helm would refuse to import.
    '--set',
    'userRoles.create=false',
    '--set',
    'admissionPolicy.create=false',
  ]);
}

beforeAll(() => {
  helmBinary();
}, 20 * 60_000);

afterAll(() => {
  kubectl(ctx.kubeconfig, ['label', ...CRDS, 'app.kubernetes.io/managed-by-']);
  kubectl(ctx.kubeconfig, [
    'annotate',
    ...CRDS,
    'meta.helm.sh/release-name-',
    'meta.helm.sh/release-namespace-',
  ]);
});

describe('CRDs installed from crds/ before', () => {
  it('make helm refuse to take them over unprompted', () => {
    const r = dryRunUpgrade();
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/CustomResourceDefinition "scimdomains\.scim\.tokens\.dev".*cannot be imported/);
  });

  it('are adopted, and upgraded with the keep policy, once labelled and annotated as docs/helm.md says', () => {
    expect(
      kubectl(ctx.kubeconfig, ['label', '--overwrite', ...CRDS, 'app.kubernetes.io/managed-by=Helm']).status,
    ).toBe(0);
    expect(
      kubectl(ctx.kubeconfig, [
        'annotate',
        '--overwrite',
        ...CRDS,
        `meta.helm.sh/release-name=${RELEASE}`,
        `meta.helm.sh/release-namespace=${ctx.namespace}`,
      ]).status,
    ).toBe(0);
    const r = dryRunUpgrade();
    expect(r.status, r.stderr).toBe(0);
    const manifest = r.stdout.slice(
      r.stdout.indexOf('MANIFEST:') + 'MANIFEST:'.length,
      r.stdout.indexOf('NOTES:'),
    );
    const crds = ofKind(loadAllYaml(manifest) as Parameters<typeof ofKind>[0], 'CustomResourceDefinition');
    expect(crds.map((c) => c.metadata?.name).sort()).toEqual([
      'scimdomains.scim.tokens.dev',
      'scimtokenrotations.scim.tokens.dev',
    ]);
    for (const crd of crds) expect(crd.metadata?.annotations?.['helm.sh/resource-policy']).toBe('keep');
  });
});
