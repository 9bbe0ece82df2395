import { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, createLogger, type Gateway, parseConfig } from '../../src/gateway/index.ts';
import { useTestTelemetry } from '../helpers/telemetry.ts';
import { type EchoUpstream, startEchoUpstream } from './harness/echo-upstream.ts';
import { captureOutput, type ScannedText, SecretScanner, spanTexts } from './harness/secrets.ts';

// Regression (issue 13, item 2): a provider error that echoes the key it was sent ("Incorrect API key
// provided: sk-…") was copied into the client's error body and into the SSE error event mid-stream,
// and a provider 401 reached the client as a 401 with `WWW-Authenticate`, as if the client's own key
// were wrong. Here a fake provider echoes the gateway's key on every failure; the key must be in
// nothing the client gets, nothing logged, no span and no metric, and a provider auth failure is a
// 502 `upstream_auth` that is neither retried nor counted against the breaker.

const telemetry = useTestTelemetry();
const scanner = new SecretScanner();
/** Not shaped like a key: only its registration at gateway start can mask it. */
const PROVIDER_KEY = scanner.add('provider key', 'prov-7Hq2-Zx9w-31337-key');
const CLIENT_KEY = scanner.add('client key', 'sk-client-echo-5a6b7c8d9e');
const ADMIN_TOKEN = scanner.add('admin token', 'admin-echo-token-1f2e3d4c5b');
/** A key the gateway never had: only its shape can give it away. */
const UNREGISTERED = scanner.add('unregistered key', 'sk-ant-api03-unregistered7f3a9c1e5b');

let upstream: EchoUpstream;
let gateway: Gateway;
const logLines: string[] = [];
let output: ReturnType<typeof captureOutput>;

beforeAll(async () => {
  output = captureOutput();
  upstream = await startEchoUpstream({ unregisteredKey: UNREGISTERED });
  const models = ['auth-fail', 'forbidden', 'bad-param', 'stream-fail', 'fine'];
  const config = parseConfig(
    `
[server]
host = "127.0.0.1"
[rate_limit]
default_tier = "standard"
[tiers.standard]
requests_per_minute = 100000
[[api_keys]]
key = "${CLIENT_KEY}"
tenant = "team"
tier = "standard"
[providers.echo]
type = "openai"
base_url = "${upstream.url}/v1"
api_key_env = "ECHO_KEY"
[providers.echo-claude]
type = "anthropic"
base_url = "${upstream.url}"
api_key_env = "ECHO_KEY"
${models.map((model) => `[ai_models.${model}]\nprovider = "echo"\n`).join('')}
[ai_models.claude-auth]
provider = "echo-claude"
[ai_models.claude-stream-fail]
provider = "echo-claude"
[breaker]
failure_threshold = 2
half_open_after = 60
timeout = 5
max_retries = 2
`,
    { ECHO_KEY: PROVIDER_KEY, ADMIN_TOKEN },
  );
  gateway = await createGateway(config, {
    telemetry: false,
    localAdminToken: false,
    logger: createLogger({ write: (line) => logLines.push(line) }),
  });
});
afterAll(async () => {
  output?.restore();
  await gateway?.stop();
  await upstream?.close();
});

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly text: string;
}

const answers: Answer[] = [];

async function ask(model: string, stream = false): Promise<Answer> {
  const response = await gateway.app.request('/v1/chat/completions', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${CLIENT_KEY}` },
    body: JSON.stringify({ model, stream, messages: [{ role: 'user', content: 'hi' }] }),
  });
  const answer = {
    status: response.status,
    headers: Object.fromEntries(response.headers.entries()),
    text: await response.text(),
  };
  answers.push(answer);
  return answer;
}

function errorOf(answer: Answer): { message: string; type: string; code: string } {
  return (JSON.parse(answer.text) as { error: { message: string; type: string; code: string } }).error;
}

/** The error event a failed stream ends with (an OpenAI-style error object, no `[DONE]`). */
function streamErrorOf(answer: Answer): { message: string; code: string } {
  const events = answer.text.split('\n\n').filter((event) => event.startsWith('data: '));
  expect(events.at(-1)).not.toBe('data: [DONE]');
  return (JSON.parse(events.at(-1)!.slice('data: '.length)) as { error: { message: string; code: string } })
    .error;
}

describe('a provider that echoes the gateway key (issue 13 item 2)', () => {
  it('answers a provider 401 or 403 with 502 upstream_auth, no WWW-Authenticate, the key masked', async () => {
    for (const model of ['auth-fail', 'forbidden', 'claude-auth']) {
      const answer = await ask(model);
      expect(answer.status, answer.text).toBe(502);
      expect(answer.headers['www-authenticate']).toBeUndefined();
      expect(errorOf(answer)).toMatchObject({ type: 'upstream_error', code: 'upstream_auth' });
      expect(answer.text).not.toContain(PROVIDER_KEY);
    }
    expect(errorOf(answers[0]!).message).toBe(
      "Provider 'echo' answered 401: Incorrect API key provided: ***. You can find your API key at https://platform.openai.com/account/api-keys.",
    );
  });

  it('treats an auth failure as configuration, not transience: no retry, the breaker stays closed', async () => {
    const before = upstream.hits('auth-fail');
    for (let i = 0; i < 4; i++) expect((await ask('auth-fail')).status).toBe(502);
    // max_retries = 2 and failure_threshold = 2: a retried or counted failure would show here.
    expect(upstream.hits('auth-fail') - before).toBe(4);
    const breakers = gateway.policies.resilience.state().breakers;
    expect(breakers.filter((breaker) => breaker.state !== 'closed')).toEqual([]);
    // It counts as an upstream error on the dashboards (it was `client_error` while it was a 401).
    const byOutcome = { 'gen_ai.request.model': 'auth-fail', 'alchemist.outcome': 'upstream_error' };
    expect(await telemetry.histogramCount('alchemist.request.duration', byOutcome)).toBe(5);
    // One CLIENT span per attempt, each saying what the provider answered.
    const attempts = telemetry.spans().filter((span) => span.name === 'chat auth-fail');
    expect(attempts.map((span) => span.attributes['error.type'])).toEqual(Array(5).fill('401'));
    // The client's own wrong key is still a 401 with the challenge.
    const response = await gateway.app.request('/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-wrong-client-000000' },
      body: JSON.stringify({ model: 'fine', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="alchemist-perf"');
    await response.text();
  });

  it('passes other provider 4xx through with registered and key-shaped secrets masked', async () => {
    const answer = await ask('bad-param');
    expect(answer.status).toBe(400);
    expect(errorOf(answer)).toEqual({
      message:
        "Provider 'echo' answered 400: Invalid 'temperature' (request had authorization: Bearer ***; your other key *** is revoked)",
      type: 'invalid_request_error',
      code: 'upstream_400',
    });
  });

  it('masks the key in the error event of a stream that fails midway (OpenAI and Anthropic)', async () => {
    const openai = await ask('stream-fail', true);
    expect(openai.status).toBe(200);
    expect(openai.text).toContain('"content":"Hel"');
    expect(streamErrorOf(openai)).toMatchObject({
      message: "Provider 'echo' failed mid-stream: stream broke for key ***",
      code: 'bad_upstream_response',
    });
    const anthropic = await ask('claude-stream-fail', true);
    expect(anthropic.status).toBe(200);
    expect(streamErrorOf(anthropic).message).toBe(
      "Provider 'echo-claude' failed mid-stream: key *** revoked mid-answer",
    );
  });

  it('leaves the key in no answer, log line, span or metric (and the upstream did echo it)', async () => {
    await ask('fine');
    const metrics = await telemetry.collect();
    const emitted: ScannedText[] = [
      ...answers.map((answer, index) => ({
        source: `answer #${index}`,
        text: `${JSON.stringify(answer.headers)}\n${answer.text}`,
      })),
      { source: 'gateway log', text: logLines.join('\n') },
      { source: 'stdout/stderr', text: output.text() },
      ...spanTexts(telemetry.spans()),
      { source: 'metrics', text: JSON.stringify(metrics) },
      { source: 'metrics text', text: new PrometheusSerializer().serialize(metrics) },
    ];
    // Positive control: the provider did put the keys in what it sent back.
    const echoed = scanner.scan(upstream.replies.map((reply) => ({ source: reply.model, text: reply.body })));
    expect(new Set(echoed.map((finding) => finding.secret))).toEqual(
      new Set(['provider key', 'unregistered key']),
    );
    expect(telemetry.spans().length).toBeGreaterThan(5);
    expect(scanner.scan(emitted)).toEqual([]);
  });
});
