/**
 * The layering of the product, read from its import statements: `core/` is pure and imports
 * nothing from `net/`, `ipc/`, `cli/` or `scripts/`; `net/` and `ipc/` import nothing from
 * `cli/`; and no file imports itself through others (no import cycles). Cycles through
 * `import type` only are erased at run time; the ones there are today are listed by name so
 * that no new one appears.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url);
const LAYERS = ["core", "net", "ipc", "cli", "scripts"] as const;
type Layer = (typeof LAYERS)[number];

/** What each layer must not import. */
const FORBIDDEN: Readonly<Record<Layer, readonly Layer[]>> = {
  core: ["net", "ipc", "cli", "scripts"],
  net: ["cli", "scripts"],
  ipc: ["cli", "scripts"],
  cli: ["scripts"],
  scripts: [],
};

/**
 * Violations known today, each with who removes it. The test fails on any other violation,
 * and also once a listed one is gone (then delete its line).
 */
const KNOWN: ReadonlyMap<string, string> = new Map([]);

/**
 * Cycles through type-only imports known today, each as its files sorted and joined by " ":
 * mutual interfaces (a client and its cluster).
 */
const KNOWN_TYPE_CYCLES: ReadonlySet<string> = new Set([
  "core/arbiter/client.ts core/arbiter/cluster_list.ts",
]);

/** Import statements; group 1 is `type` when the whole statement is type-only. */
const IMPORT = [
  /\b(?:import|export)\s+(type\s+)?([^"';]*?)\sfrom\s*["']([^"']+)["']/g,
  /\bimport()()\s*["']([^"']+)["']/g,
  /\bimport\(()()\s*["']([^"']+)["']\s*\)/g,
];

/** True when every name in `{ type A, type B }` is a type. */
function onlyTypes(names: string): boolean {
  const inner = /^\{([^]*)\}$/.exec(names.trim())?.[1];
  if (inner === undefined) return false;
  const parts = inner.split(",").map((p) => p.trim()).filter((p) => p !== "");
  return parts.length > 0 && parts.every((p) => p.startsWith("type "));
}

/** Every .ts file of the product, as a path relative to the repository root. */
function productFiles(): string[] {
  const files: string[] = ["mod.ts"];
  const walk = (dir: string) => {
    for (const entry of Deno.readDirSync(new URL(dir, ROOT))) {
      const path = `${dir}${entry.name}`;
      if (entry.isDirectory) walk(`${path}/`);
      else if (entry.name.endsWith(".ts")) files.push(path);
    }
  };
  for (const layer of LAYERS) walk(`${layer}/`);
  return files.sort();
}

interface Import {
  readonly target: string;
  /** Erased at run time: `import type` or only `type` names. */
  readonly typeOnly: boolean;
}

/** The relative imports of `file`, resolved to repository-relative paths. */
function importsOf(file: string): Import[] {
  const text = Deno.readTextFileSync(new URL(file, ROOT))
    // Comments may show imports as examples.
    .replace(/\/\*[^]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const base = new URL(file, ROOT);
  const found = new Map<string, boolean>();
  for (const pattern of IMPORT) {
    for (const [, type, names, specifier] of text.matchAll(pattern)) {
      if (!specifier!.startsWith(".")) continue; // npm:, node: and bare names are outside
      const target = new URL(specifier!, base).href.slice(ROOT.href.length);
      const typeOnly = type !== undefined && type !== "" || onlyTypes(names ?? "");
      found.set(target, (found.get(target) ?? true) && typeOnly);
    }
  }
  return [...found].map(([target, typeOnly]) => ({ target, typeOnly }));
}

function layerOf(path: string): Layer | undefined {
  return LAYERS.find((layer) => path.startsWith(`${layer}/`));
}

const GRAPH = new Map(productFiles().map((file) => [file, importsOf(file)]));

Deno.test("layering: core imports nothing from net, ipc, cli or scripts; net and ipc nothing from cli", () => {
  const violations: string[] = [];
  for (const [file, imports] of GRAPH) {
    const from = layerOf(file);
    if (from === undefined) continue;
    for (const { target } of imports) {
      const to = layerOf(target);
      if (to !== undefined && FORBIDDEN[from].includes(to)) violations.push(`${file} -> ${target}`);
    }
  }
  assert.ok(GRAPH.size > 50 && [...GRAPH.values()].flat().length > 100, "the parser sees imports");
  assert.deepEqual(violations.filter((v) => !KNOWN.has(v)), [], "new layering violations");
  assert.deepEqual([...KNOWN.keys()].filter((v) => !violations.includes(v)), [], "fixed: delete");
});

/** Every cycle of the graph restricted to `follow`, each as its files sorted and joined. */
function cycles(follow: (i: Import) => boolean): string[] {
  const found = new Set<string>();
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, "open");
    stack.push(file);
    for (const edge of GRAPH.get(file) ?? []) {
      if (!follow(edge) || !GRAPH.has(edge.target)) continue;
      if (state.get(edge.target) === "open") {
        found.add(stack.slice(stack.indexOf(edge.target)).sort().join(" "));
      } else if (state.get(edge.target) === undefined) visit(edge.target);
    }
    stack.pop();
    state.set(file, "done");
  };
  for (const file of GRAPH.keys()) if (state.get(file) === undefined) visit(file);
  return [...found].sort();
}

Deno.test("layering: no import cycles between files", () => {
  assert.deepEqual(cycles((i) => !i.typeOnly), [], "cycles at run time");
  const typeCycles = cycles(() => true);
  assert.deepEqual(typeCycles.filter((c) => !KNOWN_TYPE_CYCLES.has(c)), [], "new type cycles");
  assert.deepEqual(
    [...KNOWN_TYPE_CYCLES].filter((c) => !typeCycles.includes(c)),
    [],
    "a known type cycle is gone: delete it from KNOWN_TYPE_CYCLES",
  );
});

Deno.test("layering: the import parser reads multi-line, type, re-export and dynamic imports", () => {
  const text = [
    'import {\n  a,\n  type B,\n} from "./x.ts";',
    'import type { C } from "../y.ts";',
    'export { d } from "./z.ts";',
    'import "./side.ts";',
    'const m = await import("./lazy.ts");',
    'import x from "npm:thing";',
  ].join("\n");
  const specifiers = IMPORT.flatMap((p) => [...text.matchAll(p)].map((m) => m[3]));
  assert.deepEqual(specifiers.sort(), [
    "../y.ts",
    "./lazy.ts",
    "./side.ts",
    "./x.ts",
    "./z.ts",
    "npm:thing",
  ]);
  assert.equal(onlyTypes("{ type A,\n type B }"), true);
  assert.equal(onlyTypes("{ type A, b }"), false);
});
