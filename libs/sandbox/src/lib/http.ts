import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type ApiName =
  'compute' | 'container' | 'gkehub' | 'connectgateway' | 'github' | 'oauth2' | 'storage' | 'monitoring';

/** Fault injection, applied per request before the handler. */
export interface Fault {
  api: ApiName;
  /** Only requests whose path matches. */
  path?: RegExp;
  /**
   * secondary-rate-limit: GitHub's secondary limit, 403 or 429 (`status`) with Retry-After and a message
   * that says so; primary-rate-limit: GitHub's primary limit, 403 or 429 with x-ratelimit-remaining 0
   * and x-ratelimit-reset. Until the limit's time has passed (on the sandbox clock) GitHub keeps
   * refusing: every further request is answered the same and logged `insideLimit`.
   * https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#exceeding-the-rate-limit
   * slow-response: the request takes effect at once, but its answer comes `ms` later — a client
   * that times out first does not know whether it took effect.
   * hold: the request waits, before it takes effect, until `until` settles (tests force a race:
   * another client acts in between); `onHold` is called when it starts waiting.
   */
  kind:
    | 'latency'
    | 'status'
    | 'rate-limit'
    | 'secondary-rate-limit'
    | 'primary-rate-limit'
    | 'timeout'
    | 'drop'
    | 'slow-response'
    | 'hold';
  /** Only requests with this HTTP method. */
  method?: string;
  /** hold: released when this settles. */
  until?: Promise<unknown>;
  /** hold: called when a request starts waiting. */
  onHold?: () => void;
  /** latency, slow-response: milliseconds to wait (real time). */
  ms?: number;
  /** status: HTTP status to answer (5xx); GitHub's rate limits: 403 (default) or 429. */
  status?: number;
  /** rate-limit, secondary-rate-limit: Retry-After seconds; primary-rate-limit: seconds until x-ratelimit-reset. */
  retryAfterSec?: number;
  /** How many requests it applies to (default: all). */
  times?: number;
}

export interface RequestLog {
  api: ApiName;
  method: string;
  path: string;
  /** The status answered; 499 when the client closed the connection before the answer (nginx's convention), -1 when the server dropped it. */
  status: number;
  /** Sent while a rate limit this API answered earlier was still in force (a client that did not wait). */
  insideLimit?: boolean;
}

/** A rate limit in force: every request before `until` (sandbox clock, ms) is refused the same way. */
interface ActiveLimit {
  until: number;
  status: number;
  kind: 'primary' | 'secondary';
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body?: unknown,
  ) {
    super(message);
  }
}

export type Handler = (req: {
  method: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
  /** The request body as sent (uploads: multipart or raw bytes, which are not JSON). */
  rawBody?: Buffer;
  headers: IncomingMessage['headers'];
}) => Promise<{ status?: number; body: unknown; contentType?: string; headers?: Record<string, string> }>;

/** Google's JSON error body (https://cloud.google.com/apis/design/errors#http_mapping). */
export function googleError(status: number, message: string, reason = 'backendError'): unknown {
  const statusName: Record<number, string> = {
    400: 'INVALID_ARGUMENT',
    401: 'UNAUTHENTICATED',
    403: 'PERMISSION_DENIED',
    404: 'NOT_FOUND',
    409: 'ALREADY_EXISTS',
    429: 'RESOURCE_EXHAUSTED',
    500: 'INTERNAL',
    503: 'UNAVAILABLE',
    504: 'DEADLINE_EXCEEDED',
  };
  return {
    error: {
      code: status,
      message,
      errors: [{ message, domain: 'global', reason }],
      status: statusName[status] ?? 'UNKNOWN',
    },
  };
}

export interface ApiServer {
  url: string;
  close(): Promise<void>;
}

export async function startApiServer(
  api: ApiName,
  handler: Handler,
  ctx: {
    faults: Fault[];
    log: RequestLog[];
    authorize: ((authorization: string) => boolean) | null;
    errorBody: (status: number, message: string) => unknown;
    /** The sandbox clock (ms), for rate-limit windows; default the real clock. */
    now?: () => number;
  },
): Promise<ApiServer> {
  const sockets = new Set<Socket>();
  const now = ctx.now ?? Date.now;
  let limit: ActiveLimit | null = null;
  /** GitHub's rate-limit answer: its headers and words for each kind. */
  const limitAnswer = (l: ActiveLimit): [number, unknown, Record<string, string>] => {
    const seconds = Math.max(1, Math.ceil((l.until - now()) / 1000));
    return l.kind === 'secondary'
      ? [
          l.status,
          {
            message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
            documentation_url:
              'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits',
          },
          { 'retry-after': String(seconds) },
        ]
      : [
          l.status,
          {
            message: 'API rate limit exceeded for installation.',
            documentation_url:
              'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-the-primary-rate-limit',
          },
          {
            'x-ratelimit-limit': '5000',
            'x-ratelimit-remaining': '0',
            'x-ratelimit-used': '5000',
            'x-ratelimit-reset': String(Math.ceil(l.until / 1000)),
          },
        ];
  };
  const server = http.createServer((req, res) => void serve(req, res));
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  async function serve(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const entry: RequestLog = { api, method: req.method ?? 'GET', path: url.pathname, status: 0 };
    ctx.log.push(entry);
    let answerDelayMs = 0;
    // The client gave up (aborted, timed out) before any answer was sent.
    res.on('close', () => {
      if (!res.writableFinished && entry.status === 0) entry.status = 499;
    });
    const send = async (
      status: number,
      body: unknown,
      contentType = 'application/json',
      headers: Record<string, string> = {},
    ) => {
      if (answerDelayMs) await new Promise((r) => setTimeout(r, answerDelayMs));
      if (res.destroyed || req.socket.destroyed) {
        entry.status = 499;
        return;
      }
      entry.status = status;
      res.writeHead(status, { 'content-type': contentType, ...headers });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    try {
      if (limit && now() < limit.until) {
        entry.insideLimit = true;
        const [status, body, headers] = limitAnswer(limit);
        return send(status, body, 'application/json', headers);
      }
      for (const f of ctx.faults) {
        if (
          f.api !== api ||
          (f.path && !f.path.test(url.pathname)) ||
          (f.method && f.method !== entry.method) ||
          f.times === 0
        )
          continue;
        if (f.times !== undefined) f.times--;
        if (f.kind === 'latency') await new Promise((r) => setTimeout(r, f.ms ?? 100));
        else if (f.kind === 'status')
          return send(f.status ?? 503, ctx.errorBody(f.status ?? 503, 'The service is currently unavailable.'));
        else if (f.kind === 'rate-limit')
          return send(429, ctx.errorBody(429, 'Rate Limit Exceeded'), 'application/json', {
            'retry-after': String(f.retryAfterSec ?? 1),
          });
        else if (f.kind === 'secondary-rate-limit' || f.kind === 'primary-rate-limit') {
          limit = {
            until: now() + (f.retryAfterSec ?? 60) * 1000,
            status: f.status ?? 403,
            kind: f.kind === 'secondary-rate-limit' ? 'secondary' : 'primary',
          };
          const [status, body, headers] = limitAnswer(limit);
          return send(status, body, 'application/json', headers);
        } else if (f.kind === 'timeout')
          return; // never answer; the client's timeout must fire
        else if (f.kind === 'drop') {
          entry.status = -1;
          return req.socket.destroy();
        } else if (f.kind === 'slow-response') answerDelayMs = f.ms ?? 1000;
        else if (f.kind === 'hold') {
          f.onHold?.();
          await f.until?.catch(() => undefined);
        }
      }
      // Google answers an expired or unknown access token with 401 UNAUTHENTICATED
      // (https://cloud.google.com/apis/design/errors#handling_errors).
      if (ctx.authorize && !ctx.authorize(req.headers.authorization ?? ''))
        return send(
          401,
          ctx.errorBody(
            401,
            'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
          ),
        );
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const rawBody = Buffer.concat(chunks);
      const raw = rawBody.toString('utf8');
      const type = String(req.headers['content-type'] ?? '');
      const form = type.startsWith('application/x-www-form-urlencoded');
      // Uploads (multipart/related, or bytes of any type) are not JSON: the handler reads rawBody.
      const opaque = type.startsWith('multipart/') || (type !== '' && !/json/.test(type) && !form);
      const body =
        !raw || opaque ? undefined : form ? Object.fromEntries(new URLSearchParams(raw)) : (JSON.parse(raw) as unknown);
      const out = await handler({
        method: entry.method,
        path: url.pathname,
        query: url.searchParams,
        body,
        rawBody,
        headers: req.headers,
      });
      await send(out.status ?? 200, out.body, out.contentType, out.headers);
    } catch (e) {
      if (e instanceof HttpError) return send(e.status, e.body ?? ctx.errorBody(e.status, e.message));
      await send(500, ctx.errorBody(500, (e as Error).message));
    }
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * Offset pagination with an opaque token, as Google list APIs do. `cap` is the server's own page
 * limit (Compute caps maxResults at 500; tests lower it to make a client page through a short list).
 */
export function paginate<T>(
  items: T[],
  query: URLSearchParams,
  sizeParam: string,
  defaultSize: number,
  cap = Infinity,
): { page: T[]; nextPageToken?: string } {
  const size = Math.min(cap, Math.max(1, Number(query.get(sizeParam) ?? defaultSize) || defaultSize));
  const token = query.get('pageToken');
  const offset = token ? Number(Buffer.from(token, 'base64url').toString('utf8').replace('offset:', '')) : 0;
  if (!Number.isInteger(offset) || offset < 0) throw new HttpError(400, `Invalid page token: ${token}`);
  const page = items.slice(offset, offset + size);
  const next = offset + size < items.length ? Buffer.from(`offset:${offset + size}`).toString('base64url') : undefined;
  return { page, ...(next ? { nextPageToken: next } : {}) };
}
