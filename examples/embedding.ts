/**
 * The gateway inside your own process: the same app `npm start` runs, with its lifecycle.
 */
import { createGateway, loadConfig } from '../src/gateway/index.ts';

// The file named by ALCHEMIST_CONFIG (else embedded defaults), PORT/REDIS_URL/... overrides;
// or loadConfig({ path: 'alchemist.toml' }).
const gateway = await createGateway(loadConfig());
const { url } = await gateway.start(); // or mount gateway.app (a Hono app) in your own server
console.log(`gateway on ${url}`);
process.on('SIGTERM', () => gateway.stop()); // drains, closes pools and Redis, flushes telemetry
