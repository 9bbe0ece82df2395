#!/usr/bin/env node
// Placeholder until the gateway lands: serves /healthz and the telemetry core's metrics.
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { setupTelemetry } from '../telemetry/setup.ts';

const telemetry = await setupTelemetry();
const app = new Hono();
app.get('/healthz', (c) => c.json({ status: 'ok' }));
const port = Number(process.env.PORT ?? 8787);
const server = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' });
console.log(
  `alchemist-perf listening on http://127.0.0.1:${port}, metrics on :${telemetry.prometheusPort}/metrics`,
);
const stop = async () => {
  server.close();
  await telemetry.shutdown();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
