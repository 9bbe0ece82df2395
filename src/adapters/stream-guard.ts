import { UpstreamError } from '../core/errors.ts';
import type { WireFormat } from '../wire/types.ts';

/**
 * A stream of an API with its own end event (Responses `response.completed`, Messages `message_stop`),
 * as the policies must see it: an SDK error becomes the policy error `mapError` makes, and a stream
 * that closes before `endEvent` is an `UpstreamError`, never a complete answer. Free of any SDK, so
 * each adapter loads only its own.
 */
export async function* guardEvents<T>(
  stream: AsyncIterable<T>,
  wire: WireFormat,
  signal: AbortSignal,
  mapError: (error: unknown) => unknown,
  endEvent = 'its end event',
): AsyncGenerator<T> {
  const reader = wire.streamReader();
  try {
    for await (const event of stream) {
      reader.read(event);
      yield event;
    }
  } catch (error) {
    throw mapError(error);
  }
  signal.throwIfAborted();
  if (!reader.sawEnd) throw new UpstreamError(`The stream ended before ${endEvent}`, 0);
}
