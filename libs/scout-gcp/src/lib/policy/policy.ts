import pLimit, { type LimitFunction } from 'p-limit';
import pRetry, { AbortError } from 'p-retry';
import { SignalError, silentLogger, type Logger } from '@gpu-fleet/scout-domain';

export interface CallPolicyOptions {
  /** Per-call timeout (ms). */
  timeoutMs?: number;
  /** Retries after the first attempt for transient failures. */
  retries?: number;
  /** Concurrent calls per API host. */
  concurrencyPerHost?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Longest Retry-After honoured; a server asking for more is not retried (the next run will). */
  maxRetryAfterMs?: number;
  logger?: Logger;
}

export class CallTimeoutError extends Error {
  constructor(readonly api: string, readonly ms: number) {
    super(`${api}: no answer within ${ms} ms (timeout)`);
    this.name = 'CallTimeoutError';
  }
}

/** HTTP status of an error from gax (REST fallback), gaxios (googleapis) or @kubernetes/client-node. */
export function httpStatusOf(e: unknown): number | null {
  const err = e as { code?: unknown; status?: unknown; response?: { status?: unknown }; statusCode?: unknown };
  for (const v of [err.response?.status, err.status, err.statusCode, err.code]) {
    if (typeof v === 'number' && v >= 100 && v < 600) return v;
  }
  // gRPC codes carried by gax errors: UNAVAILABLE 14, RESOURCE_EXHAUSTED 8, DEADLINE_EXCEEDED 4, INTERNAL 13
  const grpc: Record<number, number> = { 14: 503, 8: 429, 4: 504, 13: 500, 16: 401, 7: 403, 5: 404 };
  return typeof err.code === 'number' ? (grpc[err.code] ?? null) : null;
}

/** Seconds to wait from a Retry-After header, wherever the client library put the headers. */
export function retryAfterSeconds(e: unknown): number | null {
  const err = e as { response?: { headers?: unknown }; headers?: unknown };
  for (const h of [err.response?.headers, err.headers]) {
    if (!h) continue;
    const value = typeof (h as { get?: unknown }).get === 'function' ? (h as Headers).get('retry-after') : (h as Record<string, string | undefined>)['retry-after'];
    if (value === undefined || value === null) continue;
    const n = Number(value);
    if (Number.isFinite(n)) return n;
    const date = Date.parse(String(value));
    if (!Number.isNaN(date)) return Math.max(0, (date - Date.now()) / 1000);
  }
  return null;
}

/**
 * The server's own message: client-node puts the Kubernetes Status in `body` (its message is just
 * "HTTP-Code: 403"), gaxios in `response.data.error`, gax in `message`.
 */
export function messageOf(e: unknown): string {
  const err = e as { body?: unknown; response?: { data?: unknown }; message?: string };
  for (const raw of [err.body, err.response?.data]) {
    if (!raw) continue;
    let data: unknown = raw;
    if (typeof raw === 'string') {
      try {
        data = JSON.parse(raw);
      } catch {
        if (raw.trim()) return raw.trim();
        continue;
      }
    }
    const d = data as { message?: unknown; error?: { message?: unknown } };
    const msg = d.error?.message ?? d.message;
    if (typeof msg === 'string' && msg) return msg;
  }
  return String(err.message ?? e).split('\n')[0]!;
}

export function isTransient(e: unknown): boolean {
  if (e instanceof CallTimeoutError) return true;
  const status = httpStatusOf(e);
  if (status !== null) return status === 429 || status === 408 || status >= 500;
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' && ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'UND_ERR_SOCKET', 'ECONNABORTED'].includes(code) || /socket hang up|ECONNRESET|other side closed|fetch failed/i.test(String((e as Error).message));
}

/**
 * How every external call is made: bounded concurrency per API host (p-limit), a per-call timeout,
 * and retries with exponential backoff for transient failures that honour Retry-After (p-retry).
 * Failures come out as SignalError carrying the region/cluster they concern.
 */
export class CallPolicy {
  private readonly limits = new Map<string, LimitFunction>();
  private readonly o: Required<Omit<CallPolicyOptions, 'logger'>> & { logger: Logger };
  /** Calls started, per API (for benchmarks and logs). */
  readonly calls = new Map<string, number>();

  constructor(options: CallPolicyOptions = {}) {
    this.o = { timeoutMs: 15_000, retries: 3, concurrencyPerHost: 8, minBackoffMs: 200, maxBackoffMs: 5_000, maxRetryAfterMs: 30_000, logger: silentLogger, ...options };
  }

  async run<T>(api: string, scope: { region?: string; cluster?: string }, fn: () => Promise<T>): Promise<T> {
    let limit = this.limits.get(api);
    if (!limit) {
      limit = pLimit(this.o.concurrencyPerHost);
      this.limits.set(api, limit);
    }
    const attempt = async () => {
      this.calls.set(api, (this.calls.get(api) ?? 0) + 1);
      let timer: NodeJS.Timeout | undefined;
      try {
        return await Promise.race([
          fn(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new CallTimeoutError(api, this.o.timeoutMs)), this.o.timeoutMs);
          }),
        ]);
      } catch (e) {
        if (!isTransient(e)) throw new AbortError(e as Error);
        const wait = retryAfterSeconds(e);
        if (wait !== null) {
          if (wait * 1000 > this.o.maxRetryAfterMs) throw new AbortError(e as Error);
          this.o.logger.debug({ api, waitSeconds: wait }, 'honouring Retry-After');
          await new Promise((r) => setTimeout(r, wait * 1000));
        }
        throw e;
      } finally {
        clearTimeout(timer);
      }
    };
    try {
      return await limit(() =>
        pRetry(attempt, {
          retries: this.o.retries,
          minTimeout: this.o.minBackoffMs,
          maxTimeout: this.o.maxBackoffMs,
          factor: 2,
          randomize: true,
          onFailedAttempt: (err) => this.o.logger.debug({ api, attempt: err.attemptNumber, retriesLeft: err.retriesLeft, err: err.message }, 'transient failure, retrying'),
        }),
      );
    } catch (e) {
      const err = e as Error;
      const status = httpStatusOf(err);
      throw new SignalError(`${api}${scope.cluster ? ` (${scope.cluster})` : scope.region ? ` (${scope.region})` : ''}: ${status ? `HTTP ${status}: ` : ''}${messageOf(err)}`, { api, ...scope }, isTransient(err));
    }
  }
}
