import type { SystemSpec } from '../protocol.ts';
import type { Running } from './listen.ts';

type PackSpec = Extract<SystemSpec, { kind: 'pack' }>;

/** The full pack: the gateway built from the middleware (placeholder until the gateway lands). */
export async function startPack(_spec: PackSpec): Promise<Running> {
  throw new Error('the gateway (src/gateway) is not available yet');
}
