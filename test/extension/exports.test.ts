/**
 * Every export of the production code is imported somewhere else (production code or tests):
 * an export nothing imports is dead code or a private helper that should not be exported. The
 * task entry points are the allowed exceptions. And no export is imported by tests alone:
 * code only tests use belongs in test/. Parsed with the TypeScript compiler API.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';
import { fromRoot } from './project-paths';

/** Modules whose exports are the product's surface rather than imports of other modules. */
const ENTRY_POINTS = new Set(['tasks/VvpDeploy/VvpDeployV1/index.ts', 'tasks/VvpUploadArtifact/VvpUploadArtifactV1/index.ts']);

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(fromRoot(dir), { withFileTypes: true }).flatMap((entry) => {
    const relative = path.posix.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' || entry.name === 'fixtures' ? [] : sourceFiles(relative);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [relative] : [];
  });
}

function parse(file: string): ts.SourceFile {
  return ts.createSourceFile(file, fs.readFileSync(fromRoot(file), 'utf8'), ts.ScriptTarget.Latest, true);
}

function hasExportModifier(node: ts.Node): boolean {
  return ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
}

/** The names a module exports by declaration (`export function f`, `export const a`, …). */
function exportedNames(source: ts.SourceFile): string[] {
  const names: string[] = [];
  for (const statement of source.statements) {
    if (!hasExportModifier(statement)) continue;
    if (ts.isVariableStatement(statement)) {
      for (const d of statement.declarationList.declarations) if (ts.isIdentifier(d.name)) names.push(d.name.text);
    } else if (
      (ts.isFunctionDeclaration(statement) || ts.isClassDeclaration(statement) || ts.isInterfaceDeclaration(statement) || ts.isTypeAliasDeclaration(statement) || ts.isEnumDeclaration(statement)) &&
      statement.name
    ) {
      names.push(statement.name.text);
    }
  }
  return names;
}

/** `module → names imported from it` over every file, resolving relative specifiers to repository paths. */
function importsByModule(files: readonly string[]): Map<string, Set<string>> {
  const used = new Map<string, Set<string>>();
  const note = (from: string, specifier: string, name: string): void => {
    if (!specifier.startsWith('.')) return;
    const target = path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier));
    for (const candidate of [`${target}.ts`, `${target}/index.ts`]) {
      if (!used.has(candidate)) used.set(candidate, new Set());
      used.get(candidate)?.add(name);
    }
  };
  for (const file of files) {
    const source = parse(file);
    const visit = (node: ts.Node): void => {
      if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
        const specifier = node.moduleSpecifier.text;
        const bindings = ts.isImportDeclaration(node) ? node.importClause?.namedBindings : node.exportClause;
        if (bindings && (ts.isNamedImports(bindings) || ts.isNamedExports(bindings))) {
          for (const element of bindings.elements) note(file, specifier, (element.propertyName ?? element.name).text);
        } else {
          // `import * as x` / `export * from`: every export counts as used.
          note(file, specifier, '*');
        }
      }
      // `typeof import('./x')` and `import('./x')` in types and lazy loads.
      if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
        note(file, node.argument.literal.text, node.qualifier && ts.isIdentifier(node.qualifier) ? node.qualifier.text : '*');
      }
      if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteral(node.arguments[0])) {
        note(file, node.arguments[0].text, '*');
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return used;
}

test('every production export is imported by another module (the task entries aside)', () => {
  const production = sourceFiles('tasks');
  const everything = [...production, ...sourceFiles('test')];
  const used = importsByModule(everything);
  const unused: string[] = [];
  for (const file of production) {
    if (ENTRY_POINTS.has(file)) continue;
    const names = used.get(file);
    if (names?.has('*')) continue;
    for (const name of exportedNames(parse(file))) if (!names?.has(name)) unused.push(`${file}: ${name}`);
  }
  assert.equal(unused.length, 0, `exports nothing imports (delete them, or drop \`export\` when only their own module uses them):\n${unused.join('\n')}`);
});

/** The names a module exports as values (types may be exported for the signatures that use them). */
function exportedValueNames(source: ts.SourceFile): string[] {
  const types = new Set(
    source.statements.filter((s) => hasExportModifier(s) && (ts.isInterfaceDeclaration(s) || ts.isTypeAliasDeclaration(s))).map((s) => (s as ts.InterfaceDeclaration | ts.TypeAliasDeclaration).name.text),
  );
  return exportedNames(source).filter((name) => !types.has(name));
}

test('no production export is imported by tests alone (the task entries aside)', () => {
  const production = sourceFiles('tasks');
  const byProduction = importsByModule(production);
  const byTests = importsByModule(sourceFiles('test'));
  const testOnly: string[] = [];
  for (const file of production) {
    if (ENTRY_POINTS.has(file) || byProduction.get(file)?.has('*')) continue;
    for (const name of exportedValueNames(parse(file))) {
      if (!byProduction.get(file)?.has(name) && byTests.get(file)?.has(name)) testOnly.push(`${file}: ${name}`);
    }
  }
  assert.deepEqual(testOnly, [], `exports only tests import (make them private and test them through their module, or move them to test/):\n${testOnly.join('\n')}`);
});
