import { createHash } from 'node:crypto';

/** Why an embeddings request is invalid, or undefined. */
export function validateEmbeddings(body: Record<string, unknown>): string | undefined {
  if (typeof body.model !== 'string' || body.model === '') return 'you must provide a model parameter';
  const { input, dimensions, encoding_format: format } = body;
  const ok =
    typeof input === 'string' ||
    (Array.isArray(input) &&
      input.length > 0 &&
      input.length <= 2048 &&
      input.every((item) => typeof item === 'string' || typeof item === 'number' || Array.isArray(item)));
  if (!ok) return "'input' must be a string, an array of strings, or token arrays";
  if (
    dimensions !== undefined &&
    (!Number.isInteger(dimensions) || (dimensions as number) < 1 || (dimensions as number) > 4096)
  )
    return "'dimensions' must be an integer 1..4096";
  if (format !== undefined && format !== 'float' && format !== 'base64')
    return "'encoding_format' must be 'float' or 'base64'";
  return undefined;
}

/** A unit vector of `dimensions` floats derived from SHA-256 of the model and the input: same input, same vector. */
export function embeddingOf(model: string, input: unknown, dimensions: number): Float32Array {
  const vector = new Float32Array(dimensions);
  let block = createHash('sha256').update(model).update('\0').update(JSON.stringify(input)).digest();
  let norm = 0;
  for (let i = 0; i < dimensions; i++) {
    if (i > 0 && i % 16 === 0) block = createHash('sha256').update(block).digest();
    const value = block.readInt16LE((i % 16) * 2) / 32768;
    vector[i] = value;
    norm += value * value;
  }
  const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  for (let i = 0; i < dimensions; i++) vector[i] = vector[i]! * scale;
  return vector;
}

/** OpenAI's default sizes: 3072 for `text-embedding-3-large`, else 1536. */
function defaultDimensions(model: string): number {
  return /3-large/.test(model) ? 3072 : 1536;
}

function inputTokens(input: unknown): number {
  if (typeof input === 'string') return Math.max(1, Math.ceil(input.length / 4));
  if (typeof input === 'number') return 1;
  if (Array.isArray(input)) return input.reduce((sum: number, item) => sum + inputTokens(item), 0);
  return 0;
}

/**
 * `POST /v1/embeddings`: one deterministic vector per input, as floats or (`encoding_format:
 * "base64"`) little-endian float32 bytes in base64, which openai-node asks for by default.
 */
export function embeddingsAnswer(body: Record<string, unknown>) {
  const model = body.model as string;
  const dimensions = (body.dimensions as number | undefined) ?? defaultDimensions(model);
  const base64 = body.encoding_format === 'base64';
  // A list of token ids is one input; a list of strings (or of token lists) is several.
  const inputs =
    Array.isArray(body.input) && body.input.some((item) => typeof item !== 'number')
      ? body.input
      : [body.input];
  const tokens = inputTokens(body.input);
  return {
    object: 'list',
    model,
    data: inputs.map((input, index) => {
      const vector = embeddingOf(model, input, dimensions);
      return {
        object: 'embedding',
        index,
        embedding: base64 ? Buffer.from(vector.buffer).toString('base64') : Array.from(vector),
      };
    }),
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}
