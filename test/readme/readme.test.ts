import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The README's code in the `usage` and `adapters` sections is the code of `examples/*.ts`, which
 * `npm run typecheck` compiles (tsconfig includes `examples`) and `examples.test.ts` runs. Here we
 * check that every TypeScript block of those sections is contained in an example file, with the
 * examples' relative imports (`../src/hono/index.ts`) read as the package's entry points
 * (`alchemist-perf/hono`), which must exist in package.json `exports`.
 */
const root = fileURLToPath(new URL('../../', import.meta.url));
const readme = readFileSync(`${root}README.md`, 'utf8');
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as {
  name: string;
  exports: Record<string, string | { default: string }>;
};

/** `src/<path>.ts` → package specifier, from the `exports` map (`./dist/<path>.js`). */
const specifiers = new Map<string, string>();
for (const [key, target] of Object.entries(pkg.exports)) {
  const file = typeof target === 'string' ? target : target.default;
  const match = /^\.\/dist\/(.+)\.js$/.exec(file);
  if (match) specifiers.set(`src/${match[1]}.ts`, key === '.' ? pkg.name : `${pkg.name}${key.slice(1)}`);
}

interface Code {
  /** Import statements, whitespace collapsed, specifiers as a package user writes them. */
  readonly imports: Set<string>;
  /** The other lines, trimmed (indentation differs between a README block and a function body). */
  readonly lines: string[];
}

const IMPORT = /^import\s[\s\S]*?from\s+'([^']+)';/gm;

function asPackageImport(statement: string): string {
  return statement.replace(/'\.\.\/(src\/[^']+\.ts)'/, (whole, path: string) => {
    const specifier = specifiers.get(path);
    return specifier ? `'${specifier}'` : whole;
  });
}

function parse(source: string): Code {
  const imports = new Set<string>();
  const rest = source.replace(IMPORT, (statement) => {
    imports.add(asPackageImport(statement.replace(/\s+/g, ' ').replace(/\{ /g, '{').replace(/ \}/g, '}')));
    return '';
  });
  return { imports, lines: rest.split('\n').map((line) => line.trim()) };
}

function contains(haystack: readonly string[], needle: readonly string[]): boolean {
  const wanted = needle.slice(needle.findIndex((line) => line !== ''));
  while (wanted.length > 0 && wanted[wanted.length - 1] === '') wanted.pop();
  if (wanted.length === 0) return true;
  for (let start = 0; start + wanted.length <= haystack.length; start++) {
    if (wanted.every((line, index) => haystack[start + index] === line)) return true;
  }
  return false;
}

function section(name: string): string {
  const match = new RegExp(`<!-- section:${name} [^>]*-->([\\s\\S]*?)<!-- /section:${name} -->`).exec(readme);
  if (!match?.[1]) throw new Error(`README has no '${name}' section`);
  return match[1];
}

function tsBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1] ?? '');
}

const examples = readdirSync(`${root}examples`)
  .filter((file) => file.endsWith('.ts'))
  .map((file) => ({ file, code: parse(readFileSync(`${root}examples/${file}`, 'utf8')) }));

describe('README usage and adapters sections', () => {
  const blocks = ['usage', 'adapters'].flatMap((name) =>
    tsBlocks(section(name)).map((block, index) => ({ name: `${name} block ${index + 1}`, block })),
  );

  it('have code blocks, and examples are type-checked', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(5);
    const tsconfig = readFileSync(`${root}tsconfig.json`, 'utf8');
    expect(tsconfig).toMatch(/"include":\s*\[[^\]]*"examples"/);
  });

  it.each(blocks)('$name is contained in an example file', ({ block }) => {
    const code = parse(block);
    const home = examples.find(
      (example) =>
        [...code.imports].every((statement) => example.code.imports.has(statement)) &&
        contains(example.code.lines, code.lines),
    );
    expect(home, `no example file contains this README block:\n${block}`).toBeDefined();
  });

  it("import only the package's published entry points", () => {
    const published = new Set(specifiers.values());
    for (const { block } of blocks) {
      for (const statement of parse(block).imports) {
        const from = /from '([^']+)'/.exec(statement)?.[1] ?? '';
        if (from.startsWith(pkg.name)) expect(published, statement).toContain(from);
      }
    }
  });

  it('a drifted block is caught (control)', () => {
    const drifted = parse(
      "import { withAll } from 'alchemist-perf';\nconst ask = withAll(fn, { cach: {} });",
    );
    expect(examples.some((example) => contains(example.code.lines, drifted.lines))).toBe(false);
  });
});
