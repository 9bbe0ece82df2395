// Plain JavaScript that any Node parses, so an old Node gets a sentence instead of a stack.

/**
 * Why this Node cannot run the CLI, or undefined when it can. The build (dist/, installed packages)
 * needs Node >= 22.15; a clone runs the TypeScript source, which needs type stripping (Node >= 22.18).
 * @param {string} version process.versions.node
 * @param {boolean} fromSource whether the TypeScript source runs (a clone of the repository)
 * @param {string} execPath the Node binary, named in the message
 * @returns {string | undefined}
 */
export function nodeVersionProblem(version, fromSource, execPath) {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  const [needMajor, needMinor] = fromSource ? [22, 18] : [22, 15];
  if (major > needMajor || (major === needMajor && minor >= needMinor)) return undefined;
  const how = fromSource
    ? 'in this clone run `npx alchemist-perf` (or `npm start`), which use the Node 24 `npm install` put in node_modules/.bin, or install Node 24'
    : 'install Node 24 (https://nodejs.org, or `nvm install 24`)';
  return `alchemist-perf needs Node >= ${needMajor}.${needMinor}${fromSource ? ' to run its TypeScript source' : ''}, and this is Node ${version} (${execPath}): ${how}`;
}
