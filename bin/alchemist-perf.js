#!/usr/bin/env node
// Published packages run the build; a clone of the repository runs the TypeScript source (Node >= 22.18
// strips types natively).
import { existsSync } from 'node:fs';

const built = new URL('../dist/cli/main.js', import.meta.url);
await import(existsSync(built) ? built.href : new URL('../src/cli/main.ts', import.meta.url).href);
