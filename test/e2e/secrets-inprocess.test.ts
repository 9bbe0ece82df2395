import { type DiagLogger, DiagLogLevel, diag } from '@opentelemetry/api';
import { Hono } from 'hono';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { UpstreamError } from '../../src/core/errors.ts';
import { jsonResult, streamResult } from '../../src/core/result.ts';
import { aiContext } from '../../src/hono/context.ts';
import { aiHandler } from '../../src/hono/handler.ts';
import { traceUpstreamCall } from '../../src/telemetry/upstream.ts';
import { wrapCall } from '../../src/wrap/wrap.ts';
import { useTestTelemetry } from '../helpers/telemetry.ts';
import { captureOutput, type ScannedText, SecretScanner, spanTexts } from './harness/secrets.ts';

// Every span, metric point and log line the Hono skin and the wrapper produce is scanned for the
// client keys (in each header that carries one), and for prompt text unless content capture is on.
// The gateway-level scan (provider keys, admin token, OTLP exports, /metrics) is in gateway-secrets.

const telemetry = useTestTelemetry();
const scanner = new SecretScanner();
const BEARER = scanner.add('bearer key', 'sk-live-bearer-4f1c9e2a7d');
const X_API_KEY = scanner.add('x-api-key', 'sk-ant-xapikey-9b8c7d6e5f');
const API_KEY = scanner.add('api-key header', 'azure-apikey-0a1b2c3d4e');
const PROMPT = scanner.add('prompt', 'PROMPT-CANARY-violet-harbor-1187');
const COMPLETION = scanner.add('completion', 'COMPLETION-CANARY-amber-field-5521');

const diagLines: string[] = [];
const diagLogger: DiagLogger = Object.fromEntries(
  (['error', 'warn', 'info', 'debug', 'verbose'] as const).map((level) => [
    level,
    (message: string, ...args: unknown[]) =>
      diagLines.push(`${level} ${message} ${args.map(String).join(' ')}`),
  ]),
) as unknown as DiagLogger;

let output: ReturnType<typeof captureOutput>;
beforeAll(() => {
  diag.setLogger(diagLogger, DiagLogLevel.ALL);
  output = captureOutput();
});
afterAll(() => {
  output.restore();
  diag.disable();
});
afterEach(() => {
  delete process.env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT;
});

function buildApp() {
  const app = new Hono();
  app.use('/v1/*', aiContext());
  app.post(
    '/v1/chat/completions',
    aiHandler((ctx) =>
      traceUpstreamCall(ctx, { serverAddress: 'upstream.invalid' }, async () => {
        if (ctx.model === 'failing') {
          // An upstream that echoes the caller's credentials in its error must not leak them further.
          throw new UpstreamError(`upstream rejected key ${BEARER}`, 500, { cause: new Error(X_API_KEY) });
        }
        const body = {
          id: 'chatcmpl-1',
          model: ctx.model,
          choices: [{ index: 0, message: { role: 'assistant', content: COMPLETION }, finish_reason: 'stop' }],
          usage: { prompt_tokens: 12, completion_tokens: 4 },
        };
        return ctx.stream
          ? streamResult(
              (async function* () {
                yield { ...body, choices: [{ index: 0, delta: { content: COMPLETION } }] };
              })(),
            )
          : jsonResult(body);
      }),
    ),
  );
  return app;
}

async function traffic(app: Hono) {
  const statuses: number[] = [];
  for (const [header, value] of [
    ['authorization', `Bearer ${BEARER}`],
    ['x-api-key', X_API_KEY],
    ['api-key', API_KEY],
  ] as const) {
    for (const body of [
      { model: 'gpt-4o-mini', messages: [{ role: 'user', content: PROMPT }] },
      { model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: PROMPT }] },
      { model: 'failing', messages: [{ role: 'user', content: PROMPT }] },
      { model: PROMPT.slice(0, 3), messages: 'not-an-array', user: 'x' },
    ]) {
      const response = await app.request('/v1/chat/completions', {
        method: 'POST',
        headers: { 'content-type': 'application/json', [header]: value },
        body: JSON.stringify(body),
      });
      await response.text();
      statuses.push(response.status);
    }
  }
  const wrapped = wrapCall(async (request: { model: string; messages: unknown }) => {
    if (request.model === 'failing') throw new Error(`SDK error for key ${BEARER}`);
    return { model: request.model, choices: [{ message: { content: COMPLETION } }] };
  }, []);
  await wrapped({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: PROMPT }] });
  await wrapped({ model: 'failing', messages: [{ role: 'user', content: PROMPT }] }).catch(() => {});
  return statuses;
}

async function emitted(): Promise<ScannedText[]> {
  return [
    ...spanTexts(telemetry.spans()),
    { source: 'metrics', text: JSON.stringify(await telemetry.collect()) },
    { source: 'logs', text: output.text() },
    { source: 'otel diag', text: diagLines.join('\n') },
  ];
}

describe('no secret or prompt in telemetry or logs (Hono skin and wrapper)', () => {
  const app = buildApp();

  it('finds no key and no prompt text with content capture off', async () => {
    telemetry.reset();
    const statuses = await traffic(app);
    expect(statuses).toContain(200);
    expect(statuses).toContain(502);
    expect(telemetry.spans().length).toBeGreaterThan(20);
    expect(scanner.scan(await emitted())).toEqual([]);
  });

  it('records prompts and completions only when capture is on (and the scanner sees them)', async () => {
    telemetry.reset();
    process.env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT = 'true';
    await traffic(app);
    const findings = scanner.scan(await emitted());
    // Positive control: the scanner does find captured content, so the empty scan above means something.
    expect(findings.map((f) => f.secret)).toContain('prompt');
    expect(findings.map((f) => f.secret)).toContain('completion');
    // Keys stay out even with content capture on.
    expect(findings.filter((f) => !['prompt', 'completion'].includes(f.secret))).toEqual([]);
  });
});
