/** Instrumentation scope: the package's name and version (a test keeps it equal to package.json). */
export const PACKAGE_NAME = 'alchemist-perf';
export const PACKAGE_VERSION = '0.1.0';
