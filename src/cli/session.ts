// The user's own connection to the cluster: kubeconfig loaded the way kubectl loads it (--kubeconfig,
// else KUBECONFIG, else ~/.kube/config, else in-cluster), --context, the namespace (-n, else the
// context's, else "default"), typed calls for the objects the CLI touches, and every API error turned
// into a message that says what to do (errors.ts). The CLI acts with the user's RBAC, nothing more.

import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  AuthorizationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type CoreV1Event,
  type V1Secret,
} from '@kubernetes/client-node';
import {
  API_VERSION,
  DOMAIN_KIND,
  DOMAIN_PLURAL,
  GROUP,
  ROTATION_KIND,
  ROTATION_PLURAL,
  VERSION,
  type ScimDomain,
  type ScimDomainSpec,
  type ScimTokenRotation,
  type ScimTokenRotationSpec,
} from '../api/types.js';
import { CliError, UsageError, explainKubeError, type Operation } from './errors.js';

export interface SessionOptions {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

/** Where our custom objects of `plural` in `namespace` live, for CustomObjectsApi calls. */
const inNamespace = (plural: string, namespace: string) => ({
  group: GROUP,
  version: VERSION,
  namespace,
  plural,
});

export const DOMAINS_RESOURCE = `${DOMAIN_PLURAL}.${GROUP}`;
export const ROTATIONS_RESOURCE = `${ROTATION_PLURAL}.${GROUP}`;

export class Session {
  readonly server: string;
  readonly namespace: string;
  /** Whether the namespace was given with -n (rather than taken from the context). */
  readonly namespaceExplicit: boolean;
  private readonly custom: CustomObjectsApi;
  private readonly core: CoreV1Api;
  private readonly authz: AuthorizationV1Api;

  constructor(
    readonly kc: KubeConfig,
    namespace: string | undefined,
  ) {
    this.server = kc.getCurrentCluster()?.server ?? '(no server in the kubeconfig)';
    const fromContext = kc.getContextObject(kc.getCurrentContext())?.namespace;
    this.namespace = namespace ?? (fromContext || 'default');
    this.namespaceExplicit = namespace !== undefined;
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.core = kc.makeApiClient(CoreV1Api);
    this.authz = kc.makeApiClient(AuthorizationV1Api);
  }

  /** Runs one API call; any failure becomes a CliError naming what was needed. */
  async call<T>(op: Operation, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw explainKubeError(err, op, this.server);
    }
  }

  getDomain(name: string, namespace = this.namespace): Promise<ScimDomain> {
    return this.call(
      {
        action: `read ScimDomain ${name}`,
        namespace,
        needs: [{ verb: 'get', resource: DOMAINS_RESOURCE }],
        notFound: `ScimDomain ${name} not found in namespace ${namespace}. List them with: kubectl scim domains -n ${namespace} (or -A for all namespaces)`,
      },
      async () =>
        (await this.custom.getNamespacedCustomObject({
          ...inNamespace(DOMAIN_PLURAL, namespace),
          name,
        })) as ScimDomain,
    );
  }

  /** Lists ScimDomains in `namespace`, or in all namespaces when it is undefined. */
  async listDomains(namespace: string | undefined, forbiddenHint?: string): Promise<ScimDomain[]> {
    const op: Operation = {
      action: 'list ScimDomains',
      namespace,
      needs: [{ verb: 'list', resource: DOMAINS_RESOURCE }],
      ...(forbiddenHint ? { forbiddenHint } : {}),
    };
    const list = (await this.call(op, () =>
      namespace === undefined
        ? this.custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: DOMAIN_PLURAL })
        : this.custom.listNamespacedCustomObject(inNamespace(DOMAIN_PLURAL, namespace)),
    )) as { items?: ScimDomain[] };
    return list.items ?? [];
  }

  createDomain(name: string, spec: ScimDomainSpec): Promise<ScimDomain> {
    const namespace = this.namespace;
    return this.call(
      {
        action: `create ScimDomain ${name}`,
        namespace,
        needs: [{ verb: 'create', resource: DOMAINS_RESOURCE }],
        forbiddenHint: 'The edit and admin roles grant it.',
        alreadyExists:
          `ScimDomain ${name} already exists in namespace ${namespace}. ` +
          `Show its token: kubectl scim token ${name} -n ${namespace}; replace it: kubectl scim rotate ${name} -n ${namespace}; ` +
          'or pick another name with --name.',
      },
      async () =>
        (await this.custom.createNamespacedCustomObject({
          ...inNamespace(DOMAIN_PLURAL, namespace),
          body: { apiVersion: API_VERSION, kind: DOMAIN_KIND, metadata: { name }, spec },
        })) as ScimDomain,
    );
  }

  /** The ScimTokenRotations in the session's namespace. */
  async listRotations(): Promise<ScimTokenRotation[]> {
    const namespace = this.namespace;
    const list = (await this.call(
      {
        action: 'list ScimTokenRotations',
        namespace,
        needs: [{ verb: 'list', resource: ROTATIONS_RESOURCE }],
      },
      () => this.custom.listNamespacedCustomObject(inNamespace(ROTATION_PLURAL, namespace)),
    )) as { items?: ScimTokenRotation[] };
    return list.items ?? [];
  }

  /** Events about objects of `kind` in the session's namespace (the view role may list them). */
  async listEvents(kind: string): Promise<CoreV1Event[]> {
    const namespace = this.namespace;
    const list = await this.call(
      { action: `list the Events of ${kind}s`, namespace, needs: [{ verb: 'list', resource: 'events' }] },
      () =>
        this.core.listNamespacedEvent({
          namespace,
          fieldSelector: `involvedObject.kind=${kind},involvedObject.apiVersion=${API_VERSION}`,
        }),
    );
    return list.items;
  }

  createRotation(domainName: string, spec: ScimTokenRotationSpec): Promise<ScimTokenRotation> {
    const namespace = this.namespace;
    return this.call(
      {
        action: `rotate the token of ScimDomain ${domainName}`,
        namespace,
        needs: [
          { verb: 'create', resource: ROTATIONS_RESOURCE },
          { verb: 'rotate', resource: DOMAIN_PLURAL, name: domainName },
        ],
        forbiddenHint: 'The admin role grants both (only admins rotate).',
      },
      async () =>
        (await this.custom.createNamespacedCustomObject({
          ...inNamespace(ROTATION_PLURAL, namespace),
          body: {
            apiVersion: API_VERSION,
            kind: ROTATION_KIND,
            metadata: { generateName: `${domainName}-rotate-` },
            spec,
          },
        })) as ScimTokenRotation,
    );
  }

  getRotation(name: string): Promise<ScimTokenRotation> {
    const namespace = this.namespace;
    return this.call(
      {
        action: `read ScimTokenRotation ${name}`,
        namespace,
        needs: [{ verb: 'get', resource: ROTATIONS_RESOURCE }],
        notFound: `ScimTokenRotation ${name} disappeared from namespace ${namespace} (deleted by someone else?)`,
      },
      async () =>
        (await this.custom.getNamespacedCustomObject({
          ...inNamespace(ROTATION_PLURAL, namespace),
          name,
        })) as ScimTokenRotation,
    );
  }

  /** The Secret, or undefined when it does not exist. */
  async getSecret(name: string, namespace: string): Promise<V1Secret | undefined> {
    try {
      return await this.core.readNamespacedSecret({ name, namespace });
    } catch (err) {
      if ((err as { code?: unknown }).code === 404) return undefined;
      throw explainKubeError(
        err,
        {
          action: `read the token from Secret ${name}`,
          namespace,
          needs: [{ verb: 'get', resource: 'secrets', name }],
          forbiddenHint:
            'Tokens live in Secrets, which the scim-token-operator view/edit/admin roles do not grant; the built-in admin role does.',
        },
        this.server,
      );
    }
  }

  /**
   * Marks a reveal-once Secret revealed, on condition that it is still at `resourceVersion`. Returns
   * false when it changed in between (the caller re-reads and decides again).
   */
  async markRevealed(
    name: string,
    namespace: string,
    resourceVersion: string,
    annotation: string,
  ): Promise<boolean> {
    try {
      await this.core.patchNamespacedSecret(
        {
          name,
          namespace,
          // A merge patch carrying metadata.resourceVersion is a precondition: 409 if it moved on.
          body: { metadata: { resourceVersion, annotations: { [annotation]: 'true' } } },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      return true;
    } catch (err) {
      if ((err as { code?: unknown }).code === 409) return false;
      throw explainKubeError(
        err,
        {
          action: `mark the reveal-once token in Secret ${name} as revealed (it is shown only after that)`,
          namespace,
          needs: [{ verb: 'patch', resource: 'secrets', name }],
        },
        this.server,
      );
    }
  }

  /** Whether the user may `verb` the resource, by SelfSubjectAccessReview (false if that is not allowed). */
  async can(verb: string, resource: string, namespace: string | undefined, group = ''): Promise<boolean> {
    try {
      const review = await this.authz.createSelfSubjectAccessReview({
        body: {
          spec: { resourceAttributes: { verb, group, resource, ...(namespace ? { namespace } : {}) } },
        },
      });
      return review.status?.allowed === true;
    } catch {
      return false;
    }
  }
}

/**
 * Loads the kubeconfig like kubectl. Fails with a message that says where it looked when there is
 * none, instead of client-node's silent fallback to http://localhost:8080.
 */
export function openSession(
  opts: SessionOptions,
  env: Readonly<Record<string, string | undefined>>,
): Session {
  const kc = new KubeConfig();
  const home = env.HOME ?? os.homedir();
  try {
    if (opts.kubeconfig !== undefined) {
      if (!existsSync(opts.kubeconfig)) throw new CliError(`--kubeconfig: ${opts.kubeconfig} does not exist`);
      kc.loadFromFile(opts.kubeconfig);
    } else if (env.KUBECONFIG) {
      const files = env.KUBECONFIG.split(path.delimiter).filter((f) => f !== '' && existsSync(f));
      if (files.length === 0) {
        throw new CliError(
          `KUBECONFIG=${env.KUBECONFIG}: no such file. For the local control plane: ` +
            'eval "$(bash test/controlplane/cluster.sh env)" (after npm run cluster:up)',
        );
      }
      // As kubectl: the first file sets the current context; later files add what the first lacks.
      kc.loadFromFile(files[0]!);
      for (const file of files.slice(1)) {
        const more = new KubeConfig();
        more.loadFromFile(file);
        kc.mergeConfig(more, true);
      }
    } else if (existsSync(path.join(home, '.kube', 'config'))) {
      kc.loadFromFile(path.join(home, '.kube', 'config'));
    } else if (env.KUBERNETES_SERVICE_HOST) {
      kc.loadFromCluster();
    } else {
      throw new CliError(
        'no kubeconfig found: pass --kubeconfig, set KUBECONFIG, or create ~/.kube/config. ' +
          'For the local control plane: npm run cluster:up, then eval "$(bash test/controlplane/cluster.sh env)"',
      );
    }
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`cannot load the kubeconfig: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (opts.context !== undefined) {
    if (!kc.getContexts().some((c) => c.name === opts.context)) {
      throw new UsageError(
        `--context: no context ${JSON.stringify(opts.context)} in the kubeconfig (have: ${kc
          .getContexts()
          .map((c) => c.name)
          .join(', ')})`,
      );
    }
    kc.setCurrentContext(opts.context);
  }
  if (kc.getCurrentCluster() === null) {
    throw new CliError(
      'the kubeconfig has no current context with a cluster; pass --context or fix the kubeconfig',
    );
  }
  return new Session(kc, opts.namespace);
}
