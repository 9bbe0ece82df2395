import type { CallContext } from '../../core/context.ts';
import type { AiResult } from '../../core/result.ts';
import type { ProviderType } from '../config/types.ts';

/**
 * One upstream provider: sends one attempt of a call and answers in the shape of the call's API
 * (`ctx.wire`), translating when the provider speaks another (Messages ⇄ chat).
 */
export interface Provider {
  /** Config name; also the `gen_ai.provider.name` of calls it serves. */
  readonly name: string;
  readonly type: ProviderType;
  /** Host and port for `server.address` / `server.port` on CLIENT spans. */
  readonly serverAddress: string;
  readonly serverPort: number;
  /** True when the embedded simulator stands in for this provider. */
  readonly simulated: boolean;
  /** One HTTP attempt. Rejects with UpstreamError / UpstreamTimeoutError; honours `ctx.signal`. */
  call(ctx: CallContext): Promise<AiResult>;
  /** Close the connection pool (in-flight requests finish first). */
  close(): Promise<void>;
}
