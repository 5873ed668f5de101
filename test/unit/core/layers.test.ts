/** The layer rule of DESIGN §1 is enforced by lint, not review: prove the rule bites. */
import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';

const eslint = new ESLint({ cwd: process.cwd() });

async function violations(file: string, code: string): Promise<string[]> {
  const [r] = await eslint.lintText(code, { filePath: file });
  return (r?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('layer rule', () => {
  it('refuses an upward import from the data path', async () => {
    expect(await violations('src/net/x.ts', "import { SightlineProxy } from '../server.js';\nexport const y = SightlineProxy;\n")).toHaveLength(1);
    expect(await violations('src/core/x.ts', "import { RouteTable } from '../routing/route-table.js';\nexport const y = RouteTable;\n")).toHaveLength(1);
    expect(await violations('src/protocol/x.ts', "import { dispatch } from '../net/dispatch.js';\nexport const y = dispatch;\n")).toHaveLength(1);
  });

  it('allows imports from the same or a lower layer', async () => {
    expect(await violations('src/net/x.ts', "import { RouteTable } from '../routing/route-table.js';\nexport const y = RouteTable;\n")).toHaveLength(0);
    expect(await violations('src/routing/x.ts', "import { CloseReason } from '../core/close-reasons.js';\nexport const y = CloseReason;\n")).toHaveLength(0);
  });
});
