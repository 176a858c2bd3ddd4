import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

/** One import of a repository module by another, as written and as resolved. */
export interface ImportEdge {
  /** The importing file, relative to the repository, with `/` separators. */
  readonly from: string;
  /** The specifier as written: `../cli/render/progress.ts`, `#commons/lock.ts`. */
  readonly specifier: string;
  /** The imported file, relative to the repository. */
  readonly to: string;
  /** 1-based line of the import, for messages a person can follow. */
  readonly line: number;
}

/** Every repository module and the repository modules each one imports. */
export interface ImportGraph {
  readonly files: readonly string[];
  readonly edges: readonly ImportEdge[];
  /** Relative or `#alias` specifiers that name no file: a broken import or a scanner gap. */
  readonly unresolved: readonly ImportEdge[];
}

/** Thrown when the scanner is pointed at something that is not this repository. */
export class ImportGraphError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImportGraphError';
  }
}

const SOURCE = /\.(ts|mts|cts|js|mjs|cjs)$/;
const SKIP_DIRS = new Set(['node_modules', 'cdk.out', 'dist', 'results', 'test-output', '.git']);

const posix = (path: string) => path.split(sep).join('/');

function walk(root: string, dir: string, out: string[]): void {
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    if (entry.name.startsWith('.') || SKIP_DIRS.has(entry.name)) continue;
    const path = dir === '' ? entry.name : `${dir}/${entry.name}`;
    if (entry.isDirectory()) walk(root, path, out);
    else if (entry.isFile() && SOURCE.test(entry.name) && !entry.name.endsWith('.d.ts')) {
      out.push(path);
    }
  }
}

/** package.json `imports` as [prefix, target prefix] pairs: `#commons/` → `functions/commons/`. */
function aliases(root: string): [string, string][] {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    imports?: Record<string, string>;
  };
  return Object.entries(manifest.imports ?? {}).map(([pattern, target]) => {
    if (!pattern.endsWith('/*') || !target.endsWith('/*')) {
      throw new ImportGraphError(`package.json imports ${pattern}: only "#x/*" patterns are read`);
    }
    return [pattern.slice(0, -1), posix(target.slice(0, -1)).replace(/^\.\//, '')];
  });
}

/**
 * The file a specifier names, relative to the repository, or undefined for a package
 * (`zod`, `node:fs`) and for a repository path that names no file.
 */
function resolveSpecifier(
  root: string,
  from: string,
  specifier: string,
  alias: readonly [string, string][],
): { local: boolean; to?: string } {
  let target: string | undefined;
  if (specifier.startsWith('./') || specifier.startsWith('../')) {
    target = posix(relative(root, resolve(root, dirname(from), specifier)));
  } else if (specifier.startsWith('#')) {
    const match = alias.find(([prefix]) => specifier.startsWith(prefix));
    if (match) target = match[1] + specifier.slice(match[0].length);
  }
  if (target === undefined) return { local: false };
  // Runtime and esbuild resolve `.ts` as written; a `.js` specifier may name its `.ts` source.
  const candidates = [target, target.replace(/\.js$/, '.ts')];
  const to = candidates.find((path) => SOURCE.test(path) && existsSync(join(root, path)));
  return { local: true, ...(to === undefined ? {} : { to }) };
}

/**
 * Reads every source file of the repository (outside node_modules, build output and bench
 * results) and the imports each one makes, static, dynamic (`import('…')`), type-only and
 * re-exports alike, parsed by the TypeScript compiler's `preProcessFile`. Imports of JSON and
 * other non-source files are left out: they cannot take part in a cycle.
 */
export function importGraph(root: string): ImportGraph {
  if (!existsSync(join(root, 'package.json'))) {
    throw new ImportGraphError(`${root} has no package.json`);
  }
  const alias = aliases(root);
  const files: string[] = [];
  walk(root, '', files);
  files.sort();
  const edges: ImportEdge[] = [];
  const unresolved: ImportEdge[] = [];
  for (const from of files) {
    const text = readFileSync(join(root, from), 'utf8');
    const info = ts.preProcessFile(text, true, true);
    for (const ref of info.importedFiles) {
      const specifier = ref.fileName;
      const line = text.slice(0, ref.pos).split('\n').length;
      if (/\.(json|sql|yml|yaml)$/.test(specifier)) continue;
      const { local, to } = resolveSpecifier(root, from, specifier, alias);
      if (!local) continue;
      if (to === undefined) unresolved.push({ from, specifier, to: '', line });
      else edges.push({ from, specifier, to, line });
    }
  }
  return { files, edges, unresolved };
}

/**
 * The import cycles of a graph: one entry per strongly connected component with more than
 * one file (or a file importing itself), each given as one concrete loop through it,
 * `[a, b, c, a]`, so a message can say which imports to cut.
 */
export function importCycles(graph: ImportGraph): string[][] {
  const next = new Map<string, string[]>();
  for (const edge of graph.edges) {
    next.set(edge.from, [...(next.get(edge.from) ?? []), edge.to]);
  }
  // Tarjan's strongly connected components, iteration order fixed by the sorted file list.
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (file: string): void => {
    index.set(file, counter);
    low.set(file, counter);
    counter += 1;
    stack.push(file);
    onStack.add(file);
    for (const to of next.get(file) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(file, Math.min(low.get(file) ?? 0, low.get(to) ?? 0));
      } else if (onStack.has(to)) {
        low.set(file, Math.min(low.get(file) ?? 0, index.get(to) ?? 0));
      }
    }
    if (low.get(file) === index.get(file)) {
      const component: string[] = [];
      let member: string | undefined;
      do {
        member = stack.pop();
        if (member === undefined) break;
        onStack.delete(member);
        component.push(member);
      } while (member !== file);
      const selfLoop = (next.get(file) ?? []).includes(file);
      if (component.length > 1 || selfLoop) components.push(component);
    }
  };
  for (const file of graph.files) if (!index.has(file)) visit(file);

  // One shortest loop from the component's first file (by name) back to itself.
  return components.map((component) => {
    const members = new Set(component);
    const start = [...component].sort()[0] as string;
    const previous = new Map<string, string>();
    const queue = [start];
    while (queue.length > 0) {
      const file = queue.shift() as string;
      for (const to of next.get(file) ?? []) {
        if (!members.has(to)) continue;
        if (to === start) {
          const path = [file];
          for (let at = previous.get(file); at !== undefined; at = previous.get(at)) {
            path.unshift(at);
          }
          return file === start ? [start, start] : [...path, start];
        }
        if (!previous.has(to)) {
          previous.set(to, file);
          queue.push(to);
        }
      }
    }
    return [...component, component[0] as string];
  });
}

/** A layer's name and the layers whose files its files may import (its own always allowed). */
export interface LayerRule {
  readonly name: string;
  /** Whether a repository file (relative path, `/` separators) belongs to this layer. */
  readonly holds: (file: string) => boolean;
  readonly mayImport: readonly string[];
}

/** One import a layer rule forbids, worded for a test failure. */
export interface LayerViolation {
  readonly edge: ImportEdge;
  readonly message: string;
}

/**
 * The imports the rules forbid: a file of one layer importing a file of a layer it may not
 * import, and a file no rule holds (a new folder must be given its place first). The first
 * rule that holds a file is its layer.
 */
export function layerViolations(
  graph: ImportGraph,
  rules: readonly LayerRule[],
): { violations: LayerViolation[]; unplaced: string[] } {
  const layerOf = (file: string) => rules.find((rule) => rule.holds(file));
  const unplaced = graph.files.filter((file) => layerOf(file) === undefined);
  const violations: LayerViolation[] = [];
  for (const edge of graph.edges) {
    const from = layerOf(edge.from);
    const to = layerOf(edge.to);
    if (!from || !to || from === to || from.mayImport.includes(to.name)) continue;
    violations.push({
      edge,
      message: `${edge.from}:${edge.line} imports '${edge.specifier}' (${edge.to}): ${from.name} may not import ${to.name} (it may import ${from.mayImport.length > 0 ? from.mayImport.join(', ') : 'nothing outside itself'})`,
    });
  }
  return { violations, unplaced };
}
