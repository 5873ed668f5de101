// Lint: TypeScript rules plus the layer rule of DESIGN §1 (eslint.layers.js: a src module imports
// only from its own layer or a lower one, and every src file is in a layer).
import tseslint from 'typescript-eslint';
import { layersPlugin } from './eslint.layers.js';

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
  {
    // Every source file under src/, whatever its extension: a file the rule never sees is in no layer.
    files: ['src/**/*.{ts,mts,cts,js,mjs,cjs}'],
    plugins: { sightline: layersPlugin },
    rules: { 'sightline/layers': 'error' },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
