// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The layers of src/ and what each may import (docs/design.md, "Layers"). Keyed by folder (or file)
// directly under src/; a layer imports its own folder and the layers listed, nothing else of ours.
// Main and the CLI are composition roots: they may import every layer.
const LAYERS = {
  api: [],
  rules: ['api'],
  kube: ['api'],
  observability: ['api', 'rules'],
  delivery: ['api', 'rules', 'observability'],
  controllers: ['api', 'rules', 'kube', 'observability', 'delivery'],
  verifier: ['api', 'rules', 'kube', 'observability'],
};
const ENTRY_POINTS = ['main', 'operator', 'config', 'cli'];
const ALL = [...Object.keys(LAYERS), ...ENTRY_POINTS];

const TEST_CODE = { group: ['**/test/**', 'vitest'], message: 'runtime code must not import test code' };

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The no-restricted-imports patterns for a file `depth` folders below src/ in `layer`. Imports are
 * relative, so `../../kube/x.js` means src/kube only from two folders down: one block per depth
 * keeps src/rules/delivery apart from src/delivery.
 */
function forbidden(layer, depth, allowed) {
  const up = `(\\.\\./){${depth}}`;
  return ALL.filter((other) => other !== layer && !allowed.includes(other)).map((other) => ({
    regex: `^${up}${escape(other)}(/|\\.js$)`,
    message: `layer rule: ${layer} may import ${allowed.length ? allowed.join(', ') : 'nothing of ours'}, not ${other} (docs/design.md, "Layers")`,
  }));
}

/**
 * The rule for runtime files matching `glob`: the layer patterns, and no test code. Tests beside the
 * source (*.test.ts) are not part of the runtime's dependency graph: they may import what they set up.
 */
function block(glob, patterns) {
  return {
    files: [glob],
    ignores: ['src/**/*.test.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [...patterns, TEST_CODE] }] },
  };
}

function layerBlocks() {
  const out = [];
  for (const [layer, allowed] of Object.entries(LAYERS)) {
    for (const depth of [1, 2, 3]) {
      const glob = `src/${layer}/${'*/'.repeat(depth - 1)}*.ts`;
      out.push(block(glob, forbidden(layer, depth, allowed)));
    }
  }
  return out;
}

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.cluster/', 'coverage/', 'charts/', 'test/controlplane/bin/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
    },
  },
  // Runtime code never imports test helpers (main, config, the CLI: that rule alone).
  block('src/**/*.ts', []),
  ...layerBlocks(),
  {
    files: ['**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
  },
);
