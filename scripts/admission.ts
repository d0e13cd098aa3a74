// Renders the admission policies of config/admission for one installation (SPEC §3): the policies as
// they are, their parameters (who the operator is, which Kubernetes controllers may delete token
// Secrets, whether unannotated namespaces may claim domains) and the bindings.
//
// With --scope-namespace NS the bindings select only namespace NS and read their parameters from a
// ConfigMap there: what the demo and the integration tests use, because they share one API server
// with other work that the policies must not touch. Without it, the result is config/admission with
// the parameters filled in (cluster-wide, as a cluster admin installs it).
//
//   node --import tsx scripts/admission.ts --operators USER[,USER] [--controllers USER,...]
//        [--unannotated-namespaces allow|deny] [--scope-namespace NS] | kubectl apply -f -
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { dumpYaml, loadAllYaml, type KubernetesObject } from '@kubernetes/client-node';

const DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../config/admission');
const PARAMS = 'scim-token-operator-admission';
/** Kubernetes' own controllers that delete Secrets when they run under their ServiceAccounts. */
export const DEFAULT_CONTROLLERS = [
  'system:serviceaccount:kube-system:generic-garbage-collector',
  'system:serviceaccount:kube-system:namespace-controller',
];

export interface AdmissionOptions {
  operators: readonly string[];
  controllers?: readonly string[];
  unannotatedNamespaces?: 'allow' | 'deny';
  /** Bind to this namespace only, with the parameters in it. */
  scopeNamespace?: string;
}

type Obj = KubernetesObject & { spec?: Record<string, unknown>; data?: Record<string, string> };

export function admissionManifests(): Obj[] {
  return readdirSync(DIR)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((f) => loadAllYaml(readFileSync(path.join(DIR, f), 'utf8')) as Obj[])
    .filter((o) => o !== null && typeof o === 'object');
}

export function renderAdmission(opts: AdmissionOptions): Obj[] {
  const scope = opts.scopeNamespace;
  const out: Obj[] = [];
  for (const o of admissionManifests()) {
    if (o.kind === 'Namespace' && scope) continue;
    if (o.kind === 'ConfigMap') {
      out.push({
        ...o,
        metadata: { ...o.metadata, ...(scope ? { namespace: scope } : {}) },
        data: {
          operators: opts.operators.join(','),
          controllers: (opts.controllers ?? DEFAULT_CONTROLLERS).join(','),
          unannotatedNamespaces: opts.unannotatedNamespaces ?? 'allow',
        },
      });
      continue;
    }
    if (
      (o.kind === 'ValidatingAdmissionPolicyBinding' || o.kind === 'MutatingAdmissionPolicyBinding') &&
      scope
    ) {
      const spec = { ...(o.spec ?? {}) };
      const paramRef = spec.paramRef as Record<string, unknown> | undefined;
      if (paramRef) spec.paramRef = { ...paramRef, name: PARAMS, namespace: scope };
      spec.matchResources = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': scope } } };
      out.push({ ...o, metadata: { ...o.metadata, name: `${o.metadata?.name ?? ''}-${scope}` }, spec });
      continue;
    }
    out.push(o);
  }
  return out;
}

function main(argv: string[]): void {
  const flag = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const list = (v: string | undefined) =>
    (v ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  const operators = list(flag('operators'));
  const unannotated = flag('unannotated-namespaces');
  if (operators.length === 0 || (unannotated && unannotated !== 'allow' && unannotated !== 'deny')) {
    process.stderr.write(
      'usage: scripts/admission.ts --operators USER[,USER] [--controllers USER,...] [--unannotated-namespaces allow|deny] [--scope-namespace NS]\n',
    );
    process.exit(2);
  }
  const controllers = flag('controllers');
  const scope = flag('scope-namespace');
  const objects = renderAdmission({
    operators,
    ...(controllers ? { controllers: list(controllers) } : {}),
    ...(unannotated ? { unannotatedNamespaces: unannotated as 'allow' | 'deny' } : {}),
    ...(scope ? { scopeNamespace: scope } : {}),
  });
  process.stdout.write(objects.map((o) => dumpYaml(o)).join('---\n'));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url))
  main(process.argv.slice(2));
