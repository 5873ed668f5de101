/**
 * Finds hand-kept lists of close reasons in source text: the shapes a consumer writes when it
 * classifies reasons itself instead of asking the close-reason table. Parsed with the TypeScript
 * compiler (TS and plain ESM alike), so formatting, comments and quoting do not hide one:
 *   - an array literal (also inside `new Set([...])`, `Object.freeze([...])`) with ≥ 2 reasons;
 *   - an object literal with ≥ 2 reasons as keys (`{ inactivity: ..., half_zombie: ... }`,
 *     `{ [CloseReason.Stuck]: ... }`): a per-reason map;
 *   - a `switch` with ≥ 2 `case` labels that are reasons;
 *   - a regular-expression alternation or a `'a|b'` string of ≥ 2 reasons (a PromQL matcher);
 *   - a chain of comparisons naming ≥ 2 reasons (`r === A || r === B`, `r !== A && r !== B`).
 * A reason is a string literal equal to one, or `CloseReason.X`. Maps *to* a reason (errno →
 * reason: detection, not classification) and single comparisons are not lists.
 */
import ts from 'typescript';

export interface ReasonList {
  readonly file: string;
  readonly line: number;
  readonly shape: 'array' | 'object-keys' | 'switch' | 'alternation' | 'chain';
  readonly reasons: readonly string[];
}

export function findReasonLists(
  file: string,
  text: string,
  reasons: ReadonlySet<string>,
  memberNames: ReadonlyMap<string, string>,
): ReasonList[] {
  const kind = file.endsWith('.ts') ? ts.ScriptKind.TS : ts.ScriptKind.JS;
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, kind);
  const out: ReasonList[] = [];
  const reasonOf = (n: ts.Node): string | null => {
    if (ts.isStringLiteralLike(n)) return reasons.has(n.text) ? n.text : null;
    if (ts.isPropertyAccessExpression(n) && ts.isIdentifier(n.expression) && n.expression.text === 'CloseReason')
      return memberNames.get(n.name.text) ?? null;
    if (ts.isParenthesizedExpression(n) || ts.isAsExpression(n)) return reasonOf(n.expression);
    return null;
  };
  const keyOf = (p: ts.ObjectLiteralElementLike): string | null => {
    const name = p.name;
    if (name === undefined) return null;
    if (ts.isIdentifier(name) || ts.isStringLiteral(name)) return reasons.has(name.text) ? name.text : null;
    if (ts.isComputedPropertyName(name)) return reasonOf(name.expression);
    return null;
  };
  /** The reasons of the longest `a|b|c` run in a string or a regular expression. */
  const alternation = (s: string): string[] => {
    const runs = (s.match(/[a-z_]+(?:\|[a-z_]+)+/g) ?? []).map((run) => run.split('|').filter((p) => reasons.has(p)));
    return runs.reduce((a, b) => (b.length > a.length ? b : a), [] as string[]);
  };
  const add = (n: ts.Node, shape: ReasonList['shape'], found: (string | null)[]): void => {
    const hits = found.filter((r): r is string => r !== null);
    if (hits.length >= 2)
      out.push({ file, line: sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1, shape, reasons: hits });
  };
  const isLogical = (n: ts.Node): n is ts.BinaryExpression =>
    ts.isBinaryExpression(n) &&
    (n.operatorToken.kind === ts.SyntaxKind.BarBarToken ||
      n.operatorToken.kind === ts.SyntaxKind.AmpersandAmpersandToken);
  const EQUALITY = new Set([
    ts.SyntaxKind.EqualsEqualsEqualsToken,
    ts.SyntaxKind.EqualsEqualsToken,
    ts.SyntaxKind.ExclamationEqualsEqualsToken,
    ts.SyntaxKind.ExclamationEqualsToken,
  ]);
  /** The reasons compared with in a tree of `||` / `&&` (its leaves that are equality tests). */
  const compared = (n: ts.Node): (string | null)[] => {
    if (ts.isParenthesizedExpression(n)) return compared(n.expression);
    if (isLogical(n)) return [...compared(n.left), ...compared(n.right)];
    if (ts.isBinaryExpression(n) && EQUALITY.has(n.operatorToken.kind)) return [reasonOf(n.left) ?? reasonOf(n.right)];
    return [];
  };
  const outside = (n: ts.Node): ts.Node => (ts.isParenthesizedExpression(n.parent) ? outside(n.parent) : n.parent);
  const visit = (n: ts.Node): void => {
    // A chain is judged once, at its top (a parent || / && has already seen it).
    if (isLogical(n) && !isLogical(outside(n))) add(n, 'chain', [...new Set(compared(n))]);
    if (ts.isArrayLiteralExpression(n)) add(n, 'array', n.elements.map(reasonOf));
    else if (ts.isObjectLiteralExpression(n)) add(n, 'object-keys', n.properties.map(keyOf));
    else if (ts.isSwitchStatement(n))
      add(
        n,
        'switch',
        n.caseBlock.clauses.map((c) => (ts.isCaseClause(c) ? reasonOf(c.expression) : null)),
      );
    else if (ts.isRegularExpressionLiteral(n) || ts.isStringLiteralLike(n) || ts.isTemplateLiteralToken(n))
      add(n, 'alternation', alternation(n.text.replace(/[()^$\\]/g, '')));
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}
