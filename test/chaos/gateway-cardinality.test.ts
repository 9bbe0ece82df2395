// The gateway cardinality check with 10000 distinct callers (800 in the default run).
process.env.ALCHEMIST_CARDINALITY_CALLERS ??= '10000';
await import('../e2e/gateway-cardinality.test.ts');
