/** Deterministic randomness: the same seed and key always give the same draws. */
export function hash32(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

/** mulberry32: small, fast, good enough for a simulation. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const keyedRng = (seed: number, ...key: string[]) => rng(hash32(`${seed}|${key.join('|')}`));

/** Exponentially distributed draw with the given mean. */
export const exponential = (next: () => number, mean: number) => -Math.log(1 - next()) * mean;
