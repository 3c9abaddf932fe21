import { retryOnConflict } from './conflict';

class Conflict extends Error {}

describe('retryOnConflict', () => {
  it('runs the attempt again from the start after a conflict, and returns its result', async () => {
    let state = 0;
    const seen: number[] = [];
    const result = await retryOnConflict(
      async () => {
        const read = state;
        if (read < 2) {
          state++; // someone else wrote in between
          throw new Conflict(`moved from ${read}`);
        }
        return read;
      },
      { isConflict: (e) => e instanceof Conflict, onConflict: (_e, attempt) => seen.push(attempt) },
    );
    expect(result).toBe(2);
    expect(seen).toEqual([1, 2]);
  });

  it('gives up after the last attempt with the conflict itself', async () => {
    let runs = 0;
    await expect(
      retryOnConflict(
        async () => {
          runs++;
          throw new Conflict('always moved');
        },
        { isConflict: (e) => e instanceof Conflict, attempts: 3 },
      ),
    ).rejects.toThrow('always moved');
    expect(runs).toBe(3);
  });

  it('never retries another error, and passes it through unchanged', async () => {
    let runs = 0;
    const boom = new Error('permission denied');
    await expect(
      retryOnConflict(
        async () => {
          runs++;
          throw boom;
        },
        { isConflict: (e) => e instanceof Conflict },
      ),
    ).rejects.toBe(boom);
    expect(runs).toBe(1);
  });
});
