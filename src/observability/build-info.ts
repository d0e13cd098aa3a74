// The version this process runs, for `scim_build_info`: read once from the package's own
// package.json, which sits two folders up from this module in the source tree (src/observability)
// and three in the build output and the image (dist/src/observability).
import { readFileSync } from 'node:fs';

const PACKAGE_NAME = 'scim-token-operator';

let cached: string | undefined;

/** The `version` of scim-token-operator's package.json, or "unknown" when it cannot be read. */
export function packageVersion(): string {
  if (cached !== undefined) return cached;
  for (const relative of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as {
        name?: unknown;
        version?: unknown;
      };
      if (pkg.name === PACKAGE_NAME && typeof pkg.version === 'string') return (cached = pkg.version);
    } catch {
      // Not there: try the next folder up.
    }
  }
  return (cached = 'unknown');
}
