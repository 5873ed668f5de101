// The layer rule of DESIGN §1 as a local ESLint rule: every file under src/ belongs to exactly one
// layer (a top-level directory or a root file listed below) and imports only from its own layer or a
// lower one. It fails closed: a src file that matches no layer is an error, so a new directory or
// root file must be placed before it lints. Relative specifiers are resolved against the importing
// file, so `../server.js` (the root) and `./server.js` (admin/server.ts) are told apart; static,
// re-export, dynamic and `import('…')` type imports are all checked.
import path from 'node:path';

/** Lowest first. The data path (L0–L4) never imports telemetry or admin code. */
export const LAYERS = [
  ['core'],
  ['config', 'protocol'],
  ['routing', 'security'],
  ['net'],
  ['proxy'],
  ['telemetry'],
  ['admin'],
  ['cli', 'demo', 'server.ts', 'index.ts'],
];

const SRC = path.join(import.meta.dirname, 'src');

/** The layer index of an absolute path inside src/, -1 for a src file in no layer, undefined outside src/. */
export function layerOf(file) {
  const rel = path.relative(SRC, file);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  const first = rel.split(path.sep)[0].replace(/\.js$/, '.ts');
  return LAYERS.findIndex((names) => names.includes(first));
}

const nameOf = (level) => LAYERS[level].join(', ');

const rule = {
  meta: {
    type: 'problem',
    docs: { description: 'DESIGN §1: a src module imports only from its own layer or a lower one.' },
    schema: [],
    messages: {
      unlayered:
        'DESIGN §1: {{file}} is in no layer. Move it into a layer directory or add it to LAYERS in eslint.layers.js.',
      upward:
        'DESIGN §1: {{file}} (layer {{level}}: {{layer}}) may not import {{spec}} ' +
        '(layer {{targetLevel}}: {{targetLayer}}).',
    },
  },
  create(context) {
    const file = context.filename;
    const level = layerOf(file);
    if (level === undefined) return {};
    const shown = path.relative(path.dirname(SRC), file);
    if (level === -1) {
      return {
        Program(node) {
          context.report({ node, messageId: 'unlayered', data: { file: shown } });
        },
      };
    }
    const check = (node, spec) => {
      if (typeof spec !== 'string' || !spec.startsWith('.')) return;
      const target = layerOf(path.resolve(path.dirname(file), spec));
      // A target outside src/ (package.json, say) or in no layer is not this file's fault: the
      // unlayered target is reported on its own.
      if (target === undefined || target === -1 || target <= level) return;
      context.report({
        node,
        messageId: 'upward',
        data: { file: shown, level, layer: nameOf(level), spec, targetLevel: target, targetLayer: nameOf(target) },
      });
    };
    const literal = (n) =>
      n?.type === 'Literal' ? n.value : n?.type === 'TSLiteralType' ? n.literal?.value : undefined;
    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
      ExportAllDeclaration: (node) => check(node, node.source.value),
      ImportExpression: (node) => check(node, literal(node.source)),
      TSImportType: (node) => check(node, literal('source' in node ? node.source : node.argument)),
      TSExternalModuleReference: (node) => check(node, literal(node.expression)),
    };
  },
};

export const layersPlugin = { rules: { layers: rule } };
