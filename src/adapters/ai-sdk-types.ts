import type { LanguageModelMiddleware } from 'ai';

/**
 * The language-model types of the AI SDK, derived from the middleware type that `ai` exports, so this
 * adapter needs no direct dependency on `@ai-sdk/provider`.
 */
type WrapGenerateArgs = Parameters<NonNullable<LanguageModelMiddleware['wrapGenerate']>>[0];

export type LanguageModel = WrapGenerateArgs['model'];
export type CallParams = WrapGenerateArgs['params'];
export type GenerateResult = Awaited<ReturnType<WrapGenerateArgs['doGenerate']>>;
export type StreamResult = Awaited<ReturnType<WrapGenerateArgs['doStream']>>;
export type StreamPart = StreamResult['stream'] extends ReadableStream<infer Part> ? Part : never;
export type Usage = GenerateResult['usage'];
