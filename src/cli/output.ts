// `-o json|yaml|name`: objects as kubectl prints them — a single object as itself, several as a
// `List`, and `name` as `<plural>.<group>/<name>` lines that `kubectl get` and `xargs` accept.
// Pure: returns the text.
import { dumpYaml } from '@kubernetes/client-node';
import { UsageError } from './errors.js';

export const OUTPUT_FORMATS = ['json', 'yaml', 'name'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export function parseOutputFormat(value: string, allowed: readonly OutputFormat[] = OUTPUT_FORMATS) {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UsageError(`-o ${value}: expected one of ${allowed.join(', ')}`);
  }
  return value as OutputFormat;
}

interface Named {
  metadata?: { name?: string };
}

/** One object (`list: false`) or a kubectl-style `List` of them, in the given format. */
export function renderObjects(
  format: OutputFormat,
  objects: readonly object[],
  opts: { resource: string; list: boolean },
): string {
  if (format === 'name')
    return objects.map((o) => `${opts.resource}/${(o as Named).metadata?.name ?? ''}\n`).join('');
  const value = opts.list
    ? { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items: objects }
    : objects[0];
  return format === 'json' ? `${JSON.stringify(value, null, 4)}\n` : dumpYaml(value);
}
