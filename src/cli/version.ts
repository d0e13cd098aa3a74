// The version `kubectl scim --version` prints: the package's, read from the package.json that ships
// beside the code (two levels up from src/cli when run from source, three from dist/src/cli).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { API_VERSION } from '../api/types.js';

export function packageVersion(from = import.meta.dirname): string {
  for (let dir = from, i = 0; i < 5; i++, dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'scim-token-operator' && pkg.version) return pkg.version;
    } catch {
      // not here; look one level up
    }
  }
  return 'unknown';
}

export function versionLine(version = packageVersion()): string {
  return `kubectl-scim ${version} (API ${API_VERSION}, Node.js ${process.versions.node})`;
}
