#!/usr/bin/env node
// A clone of the repository runs the TypeScript source (Node >= 22.18 strips types natively); an
// installed package, which ships no src/, runs the build in dist/.
import { existsSync } from 'node:fs';
import { nodeVersionProblem } from './node-version.js';

const source = new URL('../src/cli/main.ts', import.meta.url);
const fromSource = existsSync(source);
const problem = nodeVersionProblem(process.versions.node, fromSource, process.execPath);
if (problem) {
  process.stderr.write(`${problem}\n`);
  process.exit(1);
}
await import(fromSource ? source.href : new URL('../dist/cli/main.js', import.meta.url).href);
