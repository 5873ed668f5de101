// Lint: TypeScript rules plus the layer rule of DESIGN §1 (a module imports only from its own
// layer or a lower one; the data path L0–L4 never imports telemetry or admin code).
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

const LAYERS = [
  ['src/core'],
  ['src/config', 'src/protocol'],
  ['src/routing', 'src/security'],
  ['src/net'],
  ['src/proxy'],
  ['src/telemetry'],
  ['src/admin'],
  ['src/cli', 'src/server.ts', 'src/index.ts'],
];

const zones = [];
LAYERS.forEach((dirs, level) => {
  const higher = LAYERS.slice(level + 1).flat();
  if (higher.length === 0) return;
  for (const target of dirs) {
    zones.push({
      target: `./${target}`,
      from: higher.map((h) => `./${h}`),
      message: `DESIGN §1: ${target} (layer ${level}) may not import from a higher layer.`,
    });
  }
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'bench/results/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })] },
    rules: {
      'import-x/no-restricted-paths': ['error', { zones }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-restricted-syntax': [
        'error',
        { selector: 'TSEnumDeclaration', message: 'DESIGN §2.11: no TS enum; use an `as const` object.' },
        { selector: 'ExportAllDeclaration', message: 'DESIGN §2.11: no `export *`; export names explicitly.' },
      ],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
