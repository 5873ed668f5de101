// Lint: TypeScript rules plus the layer rule of DESIGN §1 (a module imports only from its own
// layer or a lower one; the data path L0–L4 never imports telemetry or admin code). Relative
// imports name their target directory, so `no-restricted-imports` patterns per layer enforce it
// without a module resolver.
import tseslint from 'typescript-eslint';

const LAYERS = [
  ['core'],
  ['config', 'protocol'],
  ['routing', 'security'],
  ['net'],
  ['proxy'],
  ['telemetry'],
  ['admin'],
  ['cli', 'server.ts', 'index.ts'],
];

/** Import patterns that reach a module of `name` (a directory or a root file). */
const reach = (name) => (name.endsWith('.ts') ? [`**/${name.replace(/\.ts$/, '.js')}`, `./${name.replace(/\.ts$/, '.js')}`] : [`**/${name}/*`, `../${name}/*`, `./${name}/*`]);

const layerConfigs = LAYERS.flatMap((names, level) => {
  const higher = LAYERS.slice(level + 1).flat();
  if (higher.length === 0) return [];
  return names
    .filter((n) => !n.endsWith('.ts'))
    .map((dir) => ({
      files: [`src/${dir}/**/*.ts`],
      rules: {
        'no-restricted-imports': [
          'error',
          {
            patterns: [
              {
                group: higher.flatMap(reach),
                message: `DESIGN §1: src/${dir} (layer ${level}) may not import from a higher layer (${higher.join(', ')}).`,
              },
            ],
          },
        ],
      },
    }));
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'bench/results/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-restricted-syntax': [
        'error',
        { selector: 'TSEnumDeclaration', message: 'DESIGN §2.11: no TS enum; use an `as const` object.' },
        { selector: 'ExportAllDeclaration', message: 'DESIGN §2.11: no `export *`; export names explicitly.' },
      ],
    },
  },
  ...layerConfigs,
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
