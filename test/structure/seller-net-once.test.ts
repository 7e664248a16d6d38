// The seller's net is computed in one place, src/orders/rules.ts (README, "What each person can
// do"): its dispute part too. Checked on the source (TypeScript's own parser): no other file of src
// subtracts a dispute's recovered amount and its repaid amount from each other; they call
// `sellerDisputeNet`, whose figure sellerNetOf sums.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { sellerDisputeNet, sellerNetOf } from '../../src/orders/rules.ts';

const ROOT = join(import.meta.dirname, '..', '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'emulator' ? [] : sourceFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** `a - b` where one side names a recovered amount and the other a repaid one, anywhere but rules.ts. */
function disputeNetCopies(): string[] {
  const found: string[] = [];
  for (const path of sourceFiles(join(ROOT, 'src'))) {
    const file = relative(ROOT, path);
    if (file === 'src/orders/rules.ts') continue;
    const ast = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node): void => {
      if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.MinusToken) {
        const sides = [node.left.getText(), node.right.getText()];
        if (sides.some((s) => /repaid/i.test(s)) && sides.some((s) => /recovered/i.test(s)))
          found.push(`${file}:${ast.getLineAndCharacterOfPosition(node.getStart()).line + 1}: ${node.getText()}`);
      }
      node.forEachChild(visit);
    };
    visit(ast);
  }
  return found;
}

describe("the seller's net on a dispute", () => {
  it('is computed by sellerDisputeNet alone: no other file of src works it out itself', () => {
    expect(disputeNetCopies()).toEqual([]);
  });

  it('is what the platform repaid less what it recovered, and sellerNetOf sums it over the disputes', () => {
    expect(sellerDisputeNet({ recovered: 4_000, repaid: 0 })).toBe(-4_000);
    expect(sellerDisputeNet({ recovered: 4_000, repaid: 4_000 })).toBe(0);
    const order = { amount: 10_000, application_fee_amount: 500, seller_net_amount: null };
    const disputes = [
      { amount: 4_000, recovered: 4_000, repaid: 0 },
      { amount: 1_000, recovered: 1_000, repaid: 1_000 },
    ];
    const net = sellerNetOf(order, { refunds: [], feeReturned: 0, disputes });
    expect(net.final - net.afterRefunds).toBe(disputes.reduce((n, d) => n + sellerDisputeNet(d), 0));
    expect(net.final).toBe(9_500 - 4_000);
  });
});
