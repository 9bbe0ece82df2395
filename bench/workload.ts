/**
 * Request bodies the load driver sends. Every generator is a pure function of the request's sequence
 * number, so two systems measured in the same run see exactly the same prompts in the same order.
 */

/** A request body for sequence number `i`. */
export type BodyFor = (i: number) => string;

export const BENCH_MODEL = 'gpt-4o-mini';

function chatBody(content: string, stream: boolean): string {
  return JSON.stringify({
    model: BENCH_MODEL,
    messages: [
      { role: 'system', content: 'You are a concise assistant used by a load test.' },
      { role: 'user', content },
    ],
    max_tokens: 64,
    temperature: 0,
    ...(stream ? { stream: true } : {}),
  });
}

/** A uniform number in [0, 1) from a 32-bit seed (mulberry32), so sequences are reproducible. */
export function uniform(seed: number): number {
  let t = (seed + 0x6d2b79f5) | 0;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

/**
 * The seed's workload: repeated questions with a skew. Prompt ranks follow a Zipf law (rank r is asked
 * with probability ∝ 1/r^s), the usual model for query popularity.
 */
export function skewedPrompts(options: {
  distinct: number;
  exponent: number;
  seed: number;
  tag: string;
}): BodyFor {
  const { distinct, exponent, seed, tag } = options;
  const bodies = Array.from({ length: distinct }, (_, rank) =>
    chatBody(`[${tag}] Frequently asked question number ${rank}: explain it briefly.`, false),
  );
  const cdf = new Float64Array(distinct);
  let total = 0;
  for (let rank = 0; rank < distinct; rank++) {
    total += 1 / (rank + 1) ** exponent;
    cdf[rank] = total;
  }
  for (let rank = 0; rank < distinct; rank++) cdf[rank] = (cdf[rank] ?? 0) / total;
  return (i) => {
    const u = uniform(seed + i * 2654435761);
    let lo = 0;
    let hi = distinct - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((cdf[mid] ?? 1) < u) lo = mid + 1;
      else hi = mid;
    }
    return bodies[lo] as string;
  };
}

/** Every request different: the cache misses every time (the miss path). `tag` keeps runs apart. */
export function uniquePrompts(tag: string, options: { stream?: boolean } = {}): BodyFor {
  const stream = options.stream ?? false;
  return (i) => chatBody(`[${tag}] Unique question ${i}: explain it briefly.`, stream);
}

/** The same request every time (the cache-hit path once stored). */
export function fixedPrompt(tag: string): BodyFor {
  const body = chatBody(`[${tag}] The one question everybody asks.`, false);
  return () => body;
}

/** Prompts drawn round-robin from `count` distinct ones (fills and then hits a cache of that size). */
export function cyclingPrompts(tag: string, count: number): BodyFor {
  const bodies = Array.from({ length: count }, (_, n) =>
    chatBody(`[${tag}] Question ${n} of ${count}.`, false),
  );
  return (i) => bodies[i % count] as string;
}

/**
 * A cache at work: `hitShare` of the requests ask one of `stored` known questions (the ones
 * `cyclingPrompts(tag, stored)` stored), the rest are new ones.
 */
export function mixedPrompts(tag: string, stored: number, hitShare: number, seed = 6): BodyFor {
  const known = cyclingPrompts(tag, stored);
  const fresh = uniquePrompts(`${tag}-new`);
  return (i) => {
    const u = uniform(seed + i * 2654435761);
    return u < hitShare ? known(Math.floor((u / hitShare) * stored)) : fresh(i);
  };
}
