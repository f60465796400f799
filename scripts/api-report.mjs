// The API report: for every entry point in package.json `exports`, every exported name with its kind and its
// declaration as a .d.ts shows it, in api/<entry>.api.md. Reviewing a change to these files is reviewing a change
// to what users can import; test/scripts/api-report.test.ts fails when they are out of date.
//
//   node scripts/api-report.mjs           rewrite api/ (npm run api:report)
//   node scripts/api-report.mjs --check   exit 1 when api/ is out of date
//
// Built on the TypeScript compiler API alone: one program for all entry points, the declaration emitter for the
// text (so inferred types show as users see them), and the checker for what each name is.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

const REPORT_DIR = 'api';
const REPORT_SUFFIX = '.api.md';

/**
 * The entry points package.json publishes, each with the source file behind it. A wildcard such as
 * `./services/*` is expanded to every folder that has the file, as Node would resolve it.
 * @param {string} root
 * @returns {Array<{ name: string, file: string }>} sorted by name; `file` relative to root
 */
export function entryPoints(root) {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const keys = Object.keys(pkg.exports);
  const entries = [];
  for (const [key, target] of Object.entries(pkg.exports)) {
    // A null target takes a subpath out of a wildcard (Node: ERR_PACKAGE_PATH_NOT_EXPORTED).
    const js = target === null || typeof target === 'string' ? target : (target.import ?? target.default);
    if (typeof js !== 'string' || !js.endsWith('.js')) continue; // ./package.json, excluded subpaths
    const source = js.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts');
    const name = pkg.name + key.slice(1);
    if (!key.includes('*')) {
      entries.push({ name, file: source });
      continue;
    }
    const [before, after] = source.split('*');
    for (const dir of readdirSync(join(root, before), { withFileTypes: true })) {
      // A subpath with a key of its own resolves through that key, not the wildcard.
      if (keys.includes(key.replace('*', dir.name))) continue;
      if (dir.isDirectory() && existsSync(join(root, before, dir.name, after))) {
        entries.push({ name: name.replace('*', dir.name), file: `${before}${dir.name}${after}` });
      }
    }
  }
  return entries.sort((a, b) => compare(a.name, b.name));
}

/** The report file of an entry point: `piopiy-ai/services/openai` -> `piopiy-ai_services_openai.api.md`. */
export function reportFileName(entryName) {
  return entryName.replaceAll('/', '_') + REPORT_SUFFIX;
}

/**
 * Every report, in memory.
 * @param {string} root
 * @returns {Map<string, string>} report file name -> its text
 */
export function generateApiReports(root) {
  root = resolve(root);
  const entries = entryPoints(root);
  const parsed = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.json'), undefined, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  });
  const options = { ...parsed.options, noEmit: false, declaration: true, emitDeclarationOnly: true, declarationMap: false, sourceMap: false };
  const entryFiles = entries.map((e) => join(root, e.file));
  // Two programs. The first lists the exports. The second adds, per entry point, a probe file that imports each
  // exported value and uses it as one: the compiler refuses those exported with `export type`, which the checker's
  // API does not tell. The probes are in the first program too, empty, so the second reuses all its parsed files.
  const probes = new Map(entries.map((_, i) => [join(root, `__api_probe_${i}.ts`), 'export {};\n']));
  const host = probeHost(ts.createCompilerHost(options, true), probes);
  const rootNames = [...entryFiles, ...probes.keys()];
  const first = ts.createProgram({ rootNames, options, host });
  const firstChecker = first.getTypeChecker();
  const probed = entries.map((entry, i) => {
    const values = moduleExports(first, join(root, entry.file))
      .filter(({ symbol }) => resolveAlias(firstChecker, symbol).flags & ts.SymbolFlags.Value)
      .map(({ name }) => name);
    // One line per name, import and use together, so an error's line says which name it is about.
    const specifier = './' + entry.file.replace(/\.ts$/, '.js');
    const lines = values.map((name, j) => `import { ${name} as v${j} } from '${specifier}'; v${j};`);
    probes.set(join(root, `__api_probe_${i}.ts`), lines.join('\n') + '\nexport {};\n');
    return values;
  });
  const program = ts.createProgram({ rootNames, options, host, oldProgram: first });
  const checker = program.getTypeChecker();
  const typeOnly = entries.map((_, i) => typeOnlyNames(program, join(root, `__api_probe_${i}.ts`), probed[i]));

  // What users can name (a type or a value from some entry point) and what they can construct or extend.
  const exportedAnywhere = new Set();
  const exportedAsValue = new Set();
  const perEntry = entries.map((entry) => moduleExports(program, join(root, entry.file)));
  perEntry.forEach((list, i) => {
    for (const { name, symbol } of list) {
      const target = resolveAlias(checker, symbol);
      exportedAnywhere.add(target);
      if (!typeOnly[i].has(name)) exportedAsValue.add(target);
    }
  });

  const declarations = new DeclarationText(program, root);
  const reports = new Map();
  entries.forEach((entry, i) => {
    reports.set(reportFileName(entry.name), renderReport(entry, perEntry[i], typeOnly[i], { checker, declarations, exportedAnywhere, exportedAsValue, root }));
  });
  return reports;
}

/**
 * The report files on disk that differ from `reports`.
 * @param {string} root
 * @param {Map<string, string>} reports
 * @returns {{ changed: string[], missing: string[], extra: string[] }}
 */
export function compareApiReports(root, reports) {
  const dir = join(root, REPORT_DIR);
  const onDisk = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(REPORT_SUFFIX)) : [];
  const changed = [];
  const missing = [];
  for (const [file, text] of reports) {
    if (!onDisk.includes(file)) missing.push(file);
    else if (readFileSync(join(dir, file), 'utf8') !== text) changed.push(file);
  }
  const extra = onDisk.filter((f) => !reports.has(f));
  return { changed: changed.sort(compare), missing: missing.sort(compare), extra: extra.sort(compare) };
}

/** Rewrites api/: every report, and no stale one. */
export function writeApiReports(root, reports) {
  const dir = join(root, REPORT_DIR);
  mkdirSync(dir, { recursive: true });
  for (const file of readdirSync(dir)) if (file.endsWith(REPORT_SUFFIX) && !reports.has(file)) rmSync(join(dir, file));
  for (const [file, text] of reports) writeFileSync(join(dir, file), text);
}

// Code-unit order: the same on every machine, whatever its locale.
function compare(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}

// A host that serves the probe files from memory and parses every other file once, for both programs.
function probeHost(host, probes) {
  const cache = new Map();
  return {
    ...host,
    fileExists: (file) => probes.has(file) || host.fileExists(file),
    readFile: (file) => probes.get(file) ?? host.readFile(file),
    getSourceFile(file, languageVersion, onError, shouldCreate) {
      const text = probes.get(file);
      const cached = cache.get(file);
      if (cached !== undefined && (text === undefined || cached.text === text)) return cached;
      const source = text !== undefined ? ts.createSourceFile(file, text, languageVersion, true) : host.getSourceFile(file, languageVersion, onError, shouldCreate);
      if (source !== undefined) cache.set(file, source);
      return source;
    },
  };
}

function moduleExports(program, file) {
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file);
  if (source === undefined) throw new Error(`api-report: ${file} is not in the program`);
  const moduleSymbol = checker.getSymbolAtLocation(source);
  if (moduleSymbol === undefined) return []; // a file with no import or export is not a module
  return checker
    .getExportsOfModule(moduleSymbol)
    .map((symbol) => ({ name: symbol.name, symbol }))
    .sort((a, b) => compare(a.name, b.name));
}

function resolveAlias(checker, symbol) {
  return symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
}

// Errors that say a name cannot be used (or imported) as a value because it is exported as a type only.
const TYPE_ONLY_ERRORS = new Set([1361, 1362, 1484, 1485]);

// Line j of a probe imports and uses the j-th value: a type-only error there means users can import that name as
// a type only. Any other error is a broken probe, not a fact about the API.
function typeOnlyNames(program, probeFile, values) {
  const source = program.getSourceFile(probeFile);
  const names = new Set();
  for (const d of program.getSemanticDiagnostics(source)) {
    const message = `api-report: probe of ${probeFile}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
    if (d.start === undefined || !TYPE_ONLY_ERRORS.has(d.code)) throw new Error(message);
    names.add(values[source.getLineAndCharacterOfPosition(d.start).line]);
  }
  return names;
}

function kindOf(symbol, declarations) {
  const kinds = [];
  for (const d of declarations) {
    let kind;
    if (ts.isClassDeclaration(d)) kind = ts.getModifiers(d)?.some((m) => m.kind === ts.SyntaxKind.AbstractKeyword) ? 'abstract class' : 'class';
    else if (ts.isInterfaceDeclaration(d)) kind = 'interface';
    else if (ts.isTypeAliasDeclaration(d)) kind = 'type';
    else if (ts.isFunctionDeclaration(d)) kind = 'function';
    else if (ts.isVariableDeclaration(d)) kind = d.parent.flags & ts.NodeFlags.Const ? 'const' : d.parent.flags & ts.NodeFlags.Let ? 'let' : 'var';
    else if (ts.isEnumDeclaration(d)) kind = 'enum';
    else if (ts.isModuleDeclaration(d) || ts.isSourceFile(d)) kind = 'namespace';
    else kind = ts.SyntaxKind[d.kind];
    if (!kinds.includes(kind)) kinds.push(kind);
  }
  return kinds.length > 0 ? kinds.join(' + ') : symbol.flags & ts.SymbolFlags.Value ? 'value' : 'type';
}

function renderReport(entry, exported, typeOnly, context) {
  const { checker, declarations, exportedAnywhere, exportedAsValue, root } = context;
  const section = (heading, symbol) => `${heading}\n\n\`\`\`ts\n${declarations.textOf(symbol, symbol.declarations ?? [])}\n\`\`\`\n`;
  const sections = [];
  let values = 0;
  // Symbols of this repository that the signatures name but no entry point exports, each with the names that
  // mention it; followed through their own signatures, since users meet those too.
  const unexported = new Map();
  const queue = [];
  const noteReferences = (symbol, by) => {
    for (const ref of referencedSymbols(checker, symbol, exportedAsValue.has(symbol), root)) {
      if (exportedAnywhere.has(ref) || ref === symbol) continue;
      if (!unexported.has(ref)) {
        unexported.set(ref, new Set());
        queue.push(ref);
      }
      unexported.get(ref).add(by);
    }
  };
  for (const { name, symbol } of exported) {
    const target = resolveAlias(checker, symbol);
    const isValue = (target.flags & ts.SymbolFlags.Value) !== 0 && !typeOnly.has(name);
    if (isValue) values++;
    let kind = kindOf(target, target.declarations ?? []);
    if ((target.flags & ts.SymbolFlags.Value) !== 0 && typeOnly.has(name)) kind += ', exported as a type only';
    if (target.name !== name) kind += `, declared as ${target.name}`;
    sections.push(section(`## \`${name}\` (${kind})`, target));
    noteReferences(target, name);
  }
  while (queue.length > 0) {
    const symbol = queue.shift();
    noteReferences(symbol, symbol.name);
  }
  const header = [
    `# API report: \`${entry.name}\``,
    '',
    `<!-- Generated by \`npm run api:report\` (scripts/api-report.mjs) from ${entry.file}. Do not edit by hand. -->`,
    '',
    `Exports: ${exported.length} (${values} values, ${exported.length - values} types only).`,
    '',
  ];
  const footer = [];
  if (unexported.size > 0) {
    footer.push(
      '## Named above, exported by no entry point',
      '',
      'Users cannot import these names, but their shape is part of the API above.',
      '',
    );
    const rows = [...unexported].map(([symbol, users]) => ({ symbol, users, file: projectPath(root, symbol.declarations[0].getSourceFile().fileName) }));
    rows.sort((a, b) => compare(a.symbol.name, b.symbol.name) || compare(a.file, b.file));
    for (const { symbol, users, file } of rows) {
      const by = [...users].sort(compare).map((n) => `\`${n}\``).join(', ');
      footer.push(section(`### \`${symbol.name}\` (${kindOf(symbol, symbol.declarations)}, ${file}), named in ${by}`, symbol));
    }
  }
  return [...header, ...sections, ...footer].join('\n');
}

function projectPath(root, file) {
  return relative(root, file).split(sep).join('/');
}

function isInProject(root, file) {
  const path = projectPath(root, file);
  return !path.startsWith('..') && !path.startsWith('node_modules/') && !path.includes('/node_modules/');
}

function hasModifier(node, kind) {
  return ts.canHaveModifiers(node) && (ts.getModifiers(node)?.some((m) => m.kind === kind) ?? false);
}

/**
 * The repository's own symbols that a declaration's public shape names: not bodies, default values or private
 * members, and for a class users cannot import as a value (so cannot construct or extend) not its constructor or
 * protected members either.
 */
function referencedSymbols(checker, symbol, usableAsValue, root) {
  const found = new Set();
  const note = (at) => {
    let ref = checker.getSymbolAtLocation(at);
    if (ref === undefined) return;
    ref = resolveAlias(checker, ref);
    if (ref.flags & ts.SymbolFlags.TypeParameter) return;
    const decl = ref.declarations?.[0];
    if (decl !== undefined && isInProject(root, decl.getSourceFile().fileName)) found.add(ref);
  };
  const hidden = (node) => {
    if (!ts.isClassElement(node)) return false;
    if (hasModifier(node, ts.SyntaxKind.PrivateKeyword) || (node.name !== undefined && ts.isPrivateIdentifier(node.name))) return true;
    return !usableAsValue && (ts.isConstructorDeclaration(node) || hasModifier(node, ts.SyntaxKind.ProtectedKeyword));
  };
  const visit = (node) => {
    if (hidden(node)) return;
    if (ts.isTypeReferenceNode(node)) note(ts.isQualifiedName(node.typeName) ? node.typeName.right : node.typeName);
    else if (ts.isExpressionWithTypeArguments(node)) note(node.expression);
    else if (ts.isTypeQueryNode(node)) note(ts.isQualifiedName(node.exprName) ? node.exprName.right : node.exprName);
    ts.forEachChild(node, (child) => {
      // What runs is not the API: skip bodies and default values, keep parameters and annotations.
      if (ts.isBlock(child) && ts.isFunctionLike(node)) return;
      if ('initializer' in node && node.initializer === child && !ts.isEnumMember(node)) return;
      if (ts.isArrowFunction(node) && node.body === child) return;
      visit(child);
    });
  };
  for (const d of symbol.declarations ?? []) visit(d);
  return found;
}

/** The .d.ts text of declarations, from the declaration emitter, without comments, `export`/`declare` or private members. */
class DeclarationText {
  constructor(program, root) {
    this.program = program;
    this.root = root;
    this.dtsByFile = new Map();
    this.printer = ts.createPrinter({ removeComments: true, newLine: ts.NewLineKind.LineFeed });
  }

  dtsOf(file) {
    let dts = this.dtsByFile.get(file.fileName);
    if (dts === undefined) {
      let text = '';
      this.program.emit(file, (name, data) => {
        if (name.endsWith('.d.ts')) text = data;
      }, undefined, true);
      dts = ts.createSourceFile(file.fileName.replace(/\.ts$/, '.d.ts'), text, ts.ScriptTarget.Latest, true);
      this.dtsByFile.set(file.fileName, dts);
    }
    return dts;
  }

  textOf(symbol, declarations) {
    const files = [...new Set(declarations.map((d) => d.getSourceFile()))].sort((a, b) => compare(projectPath(this.root, a.fileName), projectPath(this.root, b.fileName)));
    const parts = [];
    for (const file of files) {
      if (!isInProject(this.root, file.fileName)) {
        parts.push(`// from ${projectPath(this.root, file.fileName).replace(/^.*node_modules\//, '')}`);
        continue;
      }
      if (ts.isSourceFile(declarations[0]) && declarations[0] === file) {
        parts.push(`// the module ${projectPath(this.root, file.fileName)}`);
        continue;
      }
      const dts = file.isDeclarationFile ? file : this.dtsOf(file);
      for (const statement of dts.statements) {
        const node = this.strip(statement, symbol.name);
        if (node !== undefined) parts.push(this.printer.printNode(ts.EmitHint.Unspecified, node, dts));
      }
    }
    return parts.length > 0 ? parts.join('\n') : `// ${symbol.name}: no declaration text found`;
  }

  /** The statement reduced to the declaration of `name` as a reader needs it, or undefined when it declares something else. */
  strip(statement, name) {
    const f = ts.factory;
    const modifiers = (node) => ts.getModifiers(node)?.filter((m) => m.kind !== ts.SyntaxKind.ExportKeyword && m.kind !== ts.SyntaxKind.DeclareKeyword && m.kind !== ts.SyntaxKind.DefaultKeyword);
    const named = (node) => node.name !== undefined && ts.isIdentifier(node.name) && node.name.text === name;
    if (ts.isClassDeclaration(statement) && named(statement)) {
      // Private members are not API (the emitter keeps their names only); a private constructor is: no `new`.
      const members = statement.members.filter((m) => ts.isConstructorDeclaration(m) || !(hasModifier(m, ts.SyntaxKind.PrivateKeyword) || (m.name !== undefined && ts.isPrivateIdentifier(m.name))));
      return f.updateClassDeclaration(statement, modifiers(statement), statement.name, statement.typeParameters, statement.heritageClauses, members);
    }
    if (ts.isInterfaceDeclaration(statement) && named(statement)) {
      return f.updateInterfaceDeclaration(statement, modifiers(statement), statement.name, statement.typeParameters, statement.heritageClauses, statement.members);
    }
    if (ts.isTypeAliasDeclaration(statement) && named(statement)) {
      return f.updateTypeAliasDeclaration(statement, modifiers(statement), statement.name, statement.typeParameters, statement.type);
    }
    if (ts.isFunctionDeclaration(statement) && named(statement)) {
      return f.updateFunctionDeclaration(statement, modifiers(statement), statement.asteriskToken, statement.name, statement.typeParameters, statement.parameters, statement.type, statement.body);
    }
    if (ts.isEnumDeclaration(statement) && named(statement)) {
      return f.updateEnumDeclaration(statement, modifiers(statement), statement.name, statement.members);
    }
    if (ts.isModuleDeclaration(statement) && named(statement)) {
      return f.updateModuleDeclaration(statement, modifiers(statement), statement.name, statement.body);
    }
    if (ts.isVariableStatement(statement)) {
      const decl = statement.declarationList.declarations.find((d) => ts.isIdentifier(d.name) && d.name.text === name);
      if (decl === undefined) return undefined;
      return f.updateVariableStatement(statement, modifiers(statement), f.updateVariableDeclarationList(statement.declarationList, [decl]));
    }
    return undefined;
  }
}

function main() {
  const root = resolve(fileURLToPath(import.meta.url), '../..');
  const reports = generateApiReports(root);
  if (process.argv.includes('--check')) {
    const { changed, missing, extra } = compareApiReports(root, reports);
    const problems = [...changed.map((f) => `changed: ${f}`), ...missing.map((f) => `missing: ${f}`), ...extra.map((f) => `extra: ${f}`)];
    if (problems.length > 0) {
      console.error(`api-report: the public API changed: run \`npm run api:report\` and commit api/\n  ${problems.join('\n  ')}`);
      process.exitCode = 1;
    } else {
      console.log(`api-report: api/ is up to date (${reports.size} entry points)`);
    }
    return;
  }
  writeApiReports(root, reports);
  console.log(`api-report: wrote ${reports.size} reports to ${REPORT_DIR}/`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main();
