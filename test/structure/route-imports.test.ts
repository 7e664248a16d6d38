// Route files do not import each other: what two of them share (a view model, Stripe.js settings)
// lives in a view module (src/routes/*-view.ts) or in src/http, so a route file is only its own
// routes and registering one never drags another's in. Checked on the source itself.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { expect, it } from 'vitest';

const ROUTES = join(import.meta.dirname, '..', '..', 'src', 'routes');
const isViewModule = (name: string) => name.endsWith('-view.ts');

it('no route file imports another route file (view modules excepted)', () => {
  const found: string[] = [];
  for (const name of readdirSync(ROUTES).filter((n) => n.endsWith('.ts') && !isViewModule(n))) {
    const ast = ts.createSourceFile(name, readFileSync(join(ROUTES, name), 'utf8'), ts.ScriptTarget.Latest, true);
    for (const statement of ast.statements) {
      if (!ts.isImportDeclaration(statement) && !ts.isExportDeclaration(statement)) continue;
      const from = statement.moduleSpecifier;
      if (from === undefined || !ts.isStringLiteral(from) || !from.text.startsWith('./')) continue;
      if (!isViewModule(from.text)) found.push(`src/routes/${name} imports ${from.text}`);
    }
  }
  expect(found).toEqual([]);
});
