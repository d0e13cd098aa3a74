// What the ScimDomain watch has shown of each domain's generations: the unbroken run of generations
// seen and the last one that was suspended. A reconcile that finds a domain unsuspended two or more
// generations after its recorded Ready asks this whether a suspension came and went in between
// (SPEC §2.3: a token revoked by a suspension never verifies again); a gap in what the watch showed
// (a re-list, a restart) counts as "may have been".
import type { ScimDomain } from '../../api/types.js';
import { observeGeneration, type GenerationHistory } from '../../rules/scimdomain/plan.js';
import { objectKey } from '../../api/object-key.js';

export class GenerationHistories {
  private readonly byKey = new Map<string, GenerationHistory>();

  observe(d: ScimDomain): void {
    const key = objectKey(d);
    this.byKey.set(
      key,
      observeGeneration(
        this.byKey.get(key),
        d.metadata.uid ?? '',
        d.metadata.generation ?? 0,
        d.spec?.suspend === true,
      ),
    );
  }

  get(key: string): GenerationHistory | undefined {
    return this.byKey.get(key);
  }

  forget(key: string): void {
    this.byKey.delete(key);
  }
}
