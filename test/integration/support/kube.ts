// Test-side Kubernetes helpers: clients for the provided kubeconfig, CRD installation, one
// namespace per test file (labelled with the run id for clean-up) and waitFor.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  loadAllYaml,
  type KubernetesObject,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { KubeClient } from '../../../src/kube/client.js';
import { connectionFromKubeconfigText } from '../../../src/kube/connection.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const RUN_LABEL = 'scim.tokens.dev/test-run';
export const GROUP = 'scim.tokens.dev';
export const VERSION = 'v1alpha1';

/** The operator's own client (kube/client.ts) with the credentials of `kc`. */
export function kubeClientOf(kc: KubeConfig): KubeClient {
  return new KubeClient(connectionFromKubeconfigText(kc.exportConfig(), path.join(ROOT, 'kubeconfig')));
}

export function loadKubeConfig(file: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(file);
  return kc;
}

/** The objects of every YAML file of a directory (in name order), or of one file. */
export function readManifests(dirOrFile: string): KubernetesObject[] {
  const files = statSync(dirOrFile).isDirectory()
    ? readdirSync(dirOrFile)
        .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
        .sort()
        .map((f) => path.join(dirOrFile, f))
    : [dirOrFile];
  return files
    .flatMap((f) => loadAllYaml(readFileSync(f, 'utf8')) as KubernetesObject[])
    .filter((o) => o !== null && typeof o === 'object');
}

/** Server-side applies objects (as the tests' field manager). */
export async function applyObjects(
  objects: KubernetesObjectApi,
  list: readonly KubernetesObject[],
): Promise<void> {
  for (const obj of list) {
    await objects.patch(
      obj,
      undefined,
      undefined,
      'scim-token-operator-tests',
      true,
      PatchStrategy.ServerSideApply,
    );
  }
}

/** Server-side applies every manifest of the given directories or files (relative to the repository). */
export async function applyManifests(objects: KubernetesObjectApi, dirs: readonly string[]): Promise<void> {
  for (const dir of dirs) await applyObjects(objects, readManifests(path.join(ROOT, dir)));
}

/** Server-side applies crds/ and waits until every CRD is Established. */
export async function installCrds(kc: KubeConfig): Promise<void> {
  await applyManifests(KubernetesObjectApi.makeApiClient(kc), ['crds']);
  const crds = readManifests(path.join(ROOT, 'crds')) as V1CustomResourceDefinition[];
  const ext = kc.makeApiClient(ApiextensionsV1Api);
  await waitFor('CRDs Established', async () => {
    for (const crd of crds) {
      const live = await ext.readCustomResourceDefinition({ name: crd.metadata!.name! });
      const established = live.status?.conditions?.some(
        (c) => c.type === 'Established' && c.status === 'True',
      );
      if (!established) return undefined;
    }
    return true;
  });
}

export async function deleteRunNamespaces(kc: KubeConfig, runId: string): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  const list = await core.listNamespace({ labelSelector: `${RUN_LABEL}=${runId}` });
  await Promise.all(
    list.items.map((ns) => core.deleteNamespace({ name: ns.metadata!.name! }).catch(() => undefined)),
  );
}

export class Terminal extends Error {}

/**
 * Polls probe until it returns something other than undefined. A probe that throws Terminal ends
 * the wait at once; other errors are retried (and the last one is reported on time-out).
 */
export async function waitFor<T>(
  description: string,
  probe: () => Promise<T | undefined> | T | undefined,
  { timeoutMs = 30_000, intervalMs = 100 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      if (err instanceof Terminal) throw err;
      lastError = err;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? `: last error: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}${why}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export interface Cluster {
  kc: KubeConfig;
  core: CoreV1Api;
  custom: CustomObjectsApi;
  objects: KubernetesObjectApi;
}

export function clusterFor(kubeconfig: string): Cluster {
  const kc = loadKubeConfig(kubeconfig);
  return {
    kc,
    core: kc.makeApiClient(CoreV1Api),
    custom: kc.makeApiClient(CustomObjectsApi),
    objects: KubernetesObjectApi.makeApiClient(kc),
  };
}

/** The HTTP status and message of an error thrown by client-node 1.x (ApiException). */
export function apiError(err: unknown): { code: number; message: string } {
  const e = err as { code?: number; body?: unknown };
  let message = String(err);
  if (typeof e.body === 'string') {
    try {
      message = (JSON.parse(e.body) as { message?: string }).message ?? e.body;
    } catch {
      message = e.body;
    }
  } else if (e.body && typeof e.body === 'object') {
    message = (e.body as { message?: string }).message ?? message;
  }
  return { code: e.code ?? 0, message };
}
