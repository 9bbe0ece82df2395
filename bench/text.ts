/** Deterministic hostile text for token-estimation checks: the benchmark and its structural test share it. */

/** A seeded linear congruential generator in [0, 1): the same text on every run. */
export function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) & 0x7fffffff;
    return state / 0x7fffffff;
  };
}

/** `length` UTF-16 units of characters drawn from `alphabet` with `random`. */
export function randomText(length: number, alphabet: readonly string[], random: () => number): string {
  const chars: string[] = [];
  let size = 0;
  while (size < length) {
    const char = alphabet[Math.floor(random() * alphabet.length)]!;
    chars.push(char);
    size += char.length;
  }
  return chars.join('');
}

/** `count` consecutive code points from `from`, as strings. */
export const codePoints = (from: number, count: number): string[] =>
  Array.from({ length: count }, (_, i) => String.fromCodePoint(from + i));
