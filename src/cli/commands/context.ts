// What every command gets: the terminal, the clock, and the user's cluster session (opened on first
// use, so `--help` and usage errors work without a kubeconfig).
import type { CliIo } from '../io.js';
import type { Session } from '../session.js';
import type { Clock } from '../wait.js';

export interface CommandContext {
  io: CliIo;
  clock: Clock;
  session: () => Session;
}

/** `ns/name` of an object. */
export function refOf(o: { metadata: { namespace: string; name: string } }): string {
  return `${o.metadata.namespace}/${o.metadata.name}`;
}
