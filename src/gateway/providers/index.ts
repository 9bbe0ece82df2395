export { ANTHROPIC_VERSION, createAnthropicProvider } from './anthropic.ts';
export { fromAnthropicMessage, fromAnthropicStream, toAnthropicRequest } from './anthropic-mapping.ts';
export { createOpenAiProvider } from './openai.ts';
export type { ProviderRegistry } from './registry.ts';
export { createProviderRegistry } from './registry.ts';
export type { Provider } from './types.ts';
