// The layering rules, checked on the source itself (TypeScript's own parser, no running app):
// - no Stripe call inside a `transaction().execute(...)` callback: the callback never even names the
//   Stripe client (which is also how a function that calls Stripe would have to be handed it);
// - no SQL in src/routes: no kysely import, no query builder call, no sql`` template;
// - only src/routes, src/app.ts and src/http import Fastify (src/server.ts starts the app, and
//   src/bench compares the app with a bare Fastify route);
// - a function that locks rows (`.forUpdate()`) takes a `Transaction`, so its caller owns the
//   transaction and the type says so; no helper silently joins a caller's transaction.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const SRC = join(ROOT, 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'emulator' ? [] : sourceFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}

const files = sourceFiles(SRC).map((path) => ({
  path: relative(ROOT, path),
  ast: ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true),
}));

function walk(node: ts.Node, visit: (node: ts.Node) => void): void {
  visit(node);
  node.forEachChild((child) => walk(child, visit));
}

function where(file: { path: string; ast: ts.SourceFile }, node: ts.Node): string {
  return `${file.path}:${file.ast.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
}

/** `<anything>.transaction().execute(callback)` → the callback. */
function transactionCallback(node: ts.Node): ts.Node | undefined {
  if (!ts.isCallExpression(node) || !ts.isPropertyAccessExpression(node.expression) || node.expression.name.text !== 'execute') return undefined;
  const target = node.expression.expression;
  if (!ts.isCallExpression(target) || !ts.isPropertyAccessExpression(target.expression) || target.expression.name.text !== 'transaction') return undefined;
  return node.arguments[0];
}

/** Places inside `node` that name the Stripe client (`stripe`, `x.stripe`) or send a keyed Stripe request. */
function stripeUses(node: ts.Node): ts.Node[] {
  const found: ts.Node[] = [];
  walk(node, (n) => {
    if (ts.isIdentifier(n) && (n.text === 'stripe' || n.text === 'sendKeyed')) found.push(n);
  });
  return found;
}

export function violations() {
  const stripeInTransaction: string[] = [];
  const sqlInRoutes: string[] = [];
  const fastifyOutsideHttp: string[] = [];
  const lockWithoutTransaction: string[] = [];
  const sqlInUseCases: string[] = [];
  const joiningTransactions: string[] = [];
  for (const file of files) {
    const inRoutes = file.path.startsWith('src/routes/');
    // Use cases own transactions and call queries; the SQL of a feature lives in its queries modules.
    const inUseCases = /use-cases\.ts$/.test(file.path);
    const mayUseFastify =
      inRoutes || file.path === 'src/app.ts' || file.path.startsWith('src/http/') || file.path === 'src/server.ts' || file.path.startsWith('src/bench/');
    walk(file.ast, (node) => {
      const callback = transactionCallback(node);
      if (callback !== undefined) for (const use of stripeUses(callback)) stripeInTransaction.push(where(file, use));

      if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
        const from = node.moduleSpecifier.text;
        if (inRoutes && from === 'kysely') sqlInRoutes.push(`${where(file, node)} imports kysely`);
        if (!mayUseFastify && (from === 'fastify' || from.startsWith('@fastify/') || from.startsWith('fastify-')))
          fastifyOutsideHttp.push(`${where(file, node)} imports ${from}`);
      }
      if (inRoutes && ts.isPropertyAccessExpression(node) && ['selectFrom', 'insertInto', 'updateTable', 'deleteFrom', 'forUpdate'].includes(node.name.text)) {
        sqlInRoutes.push(`${where(file, node)} calls ${node.name.text}`);
      }
      if (inRoutes && ts.isTaggedTemplateExpression(node) && node.tag.getText() === 'sql') sqlInRoutes.push(`${where(file, node)} has sql\`\``);
      if (
        inUseCases &&
        ts.isPropertyAccessExpression(node) &&
        ['selectFrom', 'insertInto', 'updateTable', 'deleteFrom', 'forUpdate'].includes(node.name.text)
      ) {
        sqlInUseCases.push(`${where(file, node)} calls ${node.name.text}`);
      }
      if (inUseCases && ts.isTaggedTemplateExpression(node) && node.tag.getText() === 'sql') sqlInUseCases.push(`${where(file, node)} has sql\`\``);

      // Joining: a function that asks whether it was handed a transaction and opens one if not (or
      // runs in the caller's if so). Asking only to refuse (an assertion) is fine.
      if (ts.isPropertyAccessExpression(node) && node.name.text === 'isTransaction') {
        let fn: ts.Node | undefined = node.parent;
        while (fn !== undefined && !ts.isFunctionLike(fn)) fn = fn.parent;
        let opens = false;
        if (fn !== undefined)
          walk(fn, (n) => {
            if (ts.isPropertyAccessExpression(n) && n.name.text === 'transaction') opens = true;
          });
        if (opens) joiningTransactions.push(where(file, node));
      }

      if (ts.isPropertyAccessExpression(node) && node.name.text === 'forUpdate') {
        let fn: ts.Node | undefined = node.parent;
        while (fn !== undefined && !ts.isFunctionLike(fn)) fn = fn.parent;
        // The lock must be taken on a Transaction the caller handed in: the enclosing function's
        // parameters name one, or the lock sits inside a transaction().execute callback.
        const declared = fn !== undefined && ts.isFunctionLike(fn) && fn.parameters.some((p) => p.type?.getText().startsWith('Transaction<'));
        let insideTransaction = false;
        for (let n: ts.Node | undefined = node; n !== undefined; n = n.parent) if (transactionCallback(n) !== undefined) insideTransaction = true;
        if (!declared && !insideTransaction) lockWithoutTransaction.push(where(file, node));
      }
    });
    if (inRoutes && /\bsql`/.test(file.ast.text)) sqlInRoutes.push(`${file.path} contains sql\`\``);
  }
  return { stripeInTransaction, sqlInRoutes, sqlInUseCases, fastifyOutsideHttp, lockWithoutTransaction, joiningTransactions };
}

describe('source rules', () => {
  const found = violations();

  it('finds the source files it checks', () => {
    expect(files.length).toBeGreaterThan(40);
    expect(files.some((f) => f.path.startsWith('src/routes/'))).toBe(true);
  });

  it('no Stripe call inside a transaction().execute callback', () => {
    expect(found.stripeInTransaction).toEqual([]);
  });

  it('no SQL in src/routes', () => {
    expect(found.sqlInRoutes).toEqual([]);
  });

  it("no SQL in use cases (src/**/*use-cases.ts): it is in the feature's queries modules", () => {
    expect(files.filter((f) => /use-cases\.ts$/.test(f.path)).length).toBeGreaterThan(10);
    expect(found.sqlInUseCases).toEqual([]);
  });

  it('only src/routes, src/app.ts and src/http import Fastify', () => {
    expect(found.fastifyOutsideHttp).toEqual([]);
  });

  it("every function that locks rows takes a Transaction; nothing joins a caller's transaction silently", () => {
    expect(found.lockWithoutTransaction).toEqual([]);
    expect(found.joiningTransactions).toEqual([]);
  });
});
