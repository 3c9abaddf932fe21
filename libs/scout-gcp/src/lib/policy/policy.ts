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
  constructor(
    readonly api: string,
    readonly ms: number,
  ) {
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
    const value =
      typeof (h as { get?: unknown }).get === 'function'
        ? (h as Headers).get('retry-after')
        : (h as Record<string, string | undefined>)['retry-after'];
    if (value === undefined || value === null) continue;
    const n = Number(value);
    if (Number.isFinite(n)) return n;
    const date = Date.parse(String(value));
    if (!Number.isNaN(date)) return Math.max(0, (date - Date.now()) / 1000);
  }
  return null;
}

/**
 * The parsed error body the server sent, wherever the client library put it: client-node in
 * `body`, gaxios in `response.data`, gax's REST transport as the JSON text of `message`.
 */
function serverBody(e: unknown): { message?: string; reason?: string; raw?: string } | null {
  const err = e as { body?: unknown; response?: { data?: unknown }; message?: unknown };
  const jsonMessage =
    typeof err.message === 'string' && err.message.trimStart().startsWith('{') ? err.message : undefined;
  for (const raw of [err.body, err.response?.data, jsonMessage]) {
    if (!raw) continue;
    let data: unknown = raw;
    if (typeof raw === 'string') {
      try {
        data = JSON.parse(raw);
      } catch {
        if (raw.trim()) return { raw: raw.trim() };
        continue;
      }
    }
    // Kubernetes Status {message, reason} or Google's {error: {message, status}}.
    const d = data as { message?: unknown; reason?: unknown; error?: { message?: unknown; status?: unknown } };
    const message = d.error?.message ?? d.message;
    const reason = d.error?.status ?? d.reason;
    return {
      ...(typeof message === 'string' && message ? { message } : {}),
      ...(typeof reason === 'string' && reason ? { reason } : {}),
    };
  }
  return null;
}

/**
 * The server's own message: client-node puts the Kubernetes Status in `body` (its message is just
 * "HTTP-Code: 403"), gaxios in `response.data.error`, gax in `message`.
 */
export function messageOf(e: unknown): string {
  const body = serverBody(e);
  if (body?.message) return body.message;
  if (body?.raw) return body.raw;
  return String((e as Error)?.message ?? e).split('\n')[0]!;
}

// gRPC status names by code (https://grpc.github.io/grpc/core/md_doc_statuscodes.html), which gax
// errors carry as `code` while REST carries the same names in error.status.
const GRPC_STATUS = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
];

/** The machine-readable reason: a Kubernetes Status reason or Google's error status name. */
export function reasonOf(e: unknown): string | null {
  const body = serverBody(e);
  if (body?.reason) return body.reason;
  const err = e as { code?: unknown; response?: unknown; statusCode?: unknown };
  // gax errors: `code` is a gRPC code (client-node's ApiException uses `code` for the HTTP status).
  if (typeof err.code === 'number' && err.code < 100 && !err.response) return GRPC_STATUS[err.code] ?? null;
  return null;
}

/** Network failures, by the system error code the clients carry (node-fetch, gaxios, undici's cause). */
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'UND_ERR_SOCKET',
  'ECONNABORTED',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
]);
const networkCode = (e: unknown): string | null => {
  const err = e as { code?: unknown; cause?: { code?: unknown } };
  for (const c of [err.code, err.cause?.code]) if (typeof c === 'string' && NETWORK_CODES.has(c)) return c;
  return null;
};

export function isTransient(e: unknown): boolean {
  if (e instanceof CallTimeoutError) return true;
  const status = httpStatusOf(e);
  if (status !== null) return status === 429 || status === 408 || status >= 500;
  return networkCode(e) !== null;
}

/**
 * Whether a failed request may have been processed by the server. A 429 (rate limited) and a
 * refused connection prove it was not; a timeout, a reset connection or a 5xx prove nothing.
 */
function mayHaveTakenEffect(e: unknown): boolean {
  return httpStatusOf(e) !== 429 && networkCode(e) !== 'ECONNREFUSED';
}

export interface CallOptions {
  /**
   * Safe to send again when an attempt failed in a way that says nothing about whether the server
   * acted on it (a timeout, a reset connection, a 5xx): reads, deletes, replaces guarded by a
   * resourceVersion, and creates under a fixed name whose 409 AlreadyExists the caller reads back.
   * Default true; set false for a call that would act twice.
   */
  idempotent?: boolean;
}

/**
 * How every external call is made: bounded concurrency per API host (p-limit), a per-call timeout
 * that aborts the request (the function receives an AbortSignal and hands it to its client), and
 * retries with exponential backoff for transient failures that honour Retry-After (p-retry) — only
 * for calls that are safe to repeat. Failures come out as SignalError carrying the region/cluster
 * they concern and the server's status and reason as typed fields.
 */
export class CallPolicy {
  private readonly limits = new Map<string, LimitFunction>();
  private readonly o: Required<Omit<CallPolicyOptions, 'logger'>> & { logger: Logger };

  constructor(options: CallPolicyOptions = {}) {
    this.o = {
      timeoutMs: 15_000,
      retries: 3,
      concurrencyPerHost: 8,
      minBackoffMs: 200,
      maxBackoffMs: 5_000,
      maxRetryAfterMs: 30_000,
      logger: silentLogger,
      ...options,
    };
  }

  async run<T>(
    api: string,
    scope: { region?: string; cluster?: string },
    fn: (signal: AbortSignal) => Promise<T>,
    options: CallOptions = {},
  ): Promise<T> {
    const idempotent = options.idempotent ?? true;
    let limit = this.limits.get(api);
    if (!limit) {
      limit = pLimit(this.o.concurrencyPerHost);
      this.limits.set(api, limit);
    }
    const attempt = async () => {
      const controller = new AbortController();
      let timer: NodeJS.Timeout | undefined;
      try {
        return await Promise.race([
          fn(controller.signal),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => {
              const err = new CallTimeoutError(api, this.o.timeoutMs);
              // Abort the request itself: a timed-out request must not go on and race its retry.
              controller.abort(err);
              reject(err);
            }, this.o.timeoutMs);
          }),
        ]);
      } catch (e) {
        if (!isTransient(e)) throw new AbortError(e as Error);
        if (!idempotent && mayHaveTakenEffect(e)) throw new AbortError(e as Error);
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
          onFailedAttempt: (err) =>
            this.o.logger.debug(
              { api, attempt: err.attemptNumber, retriesLeft: err.retriesLeft, err: err.message },
              'transient failure, retrying',
            ),
        }),
      );
    } catch (e) {
      const err = e as Error;
      const status = httpStatusOf(err);
      throw new SignalError(
        `${api}${scope.cluster ? ` (${scope.cluster})` : scope.region ? ` (${scope.region})` : ''}: ${status ? `HTTP ${status}: ` : ''}${messageOf(err)}`,
        { api, ...scope },
        isTransient(err),
        { status, reason: reasonOf(err) },
      );
    }
  }
}
