import pRetry, { AbortError } from 'p-retry';

export interface ConflictRetryOptions {
  /** True when the error means "someone else moved it first": re-read and try again. */
  isConflict: (error: unknown) => boolean;
  /** Attempts in all, the first included (default 3). */
  attempts?: number;
  /** Called before each retry, e.g. to log it. */
  onConflict?: (error: unknown, attempt: number) => void;
}

/**
 * Optimistic concurrency, one way everywhere: run `attempt` (which reads the current state and
 * writes with a compare-and-swap: a git ref update with its old value, a ConfigMap write with its
 * resourceVersion, a fast-forward-only ref update on GitHub); when the write loses to a concurrent
 * writer, run it again from a fresh read, up to `attempts` times. Any other error ends it at once.
 * Retries are immediate: the conflict is already resolved by the time it is reported.
 */
export async function retryOnConflict<T>(attempt: () => Promise<T>, options: ConflictRetryOptions): Promise<T> {
  const attempts = options.attempts ?? 3;
  return pRetry(
    async () => {
      try {
        return await attempt();
      } catch (e) {
        if (!options.isConflict(e)) throw new AbortError(e instanceof Error ? e : new Error(String(e)));
        throw e;
      }
    },
    {
      retries: attempts - 1,
      minTimeout: 0,
      maxTimeout: 0,
      randomize: false,
      onFailedAttempt: (error) => {
        if (error.retriesLeft > 0) options.onConflict?.(error, error.attemptNumber);
      },
    },
  );
}
