import pino, { type Logger as Pino } from 'pino';
import pretty from 'pino-pretty';
import type { Logger } from '@gpu-fleet/scout-domain';

/**
 * Field names that hold credentials, compared case-insensitively at every depth of a log object
 * (pino's own redact paths name fixed depths only, so a token two levels down would slip through).
 */
export const SECRET_KEYS = [
  'token',
  'accesstoken',
  'access_token',
  'refreshtoken',
  'refresh_token',
  'idtoken',
  'id_token',
  'authorization',
  'privatekey',
  'private_key',
  'password',
  'secret',
  'client_secret',
  'clientsecret',
  'apikey',
  'api_key',
  'cookie',
  'set-cookie',
];
const SECRET_KEY = new Set(SECRET_KEYS);
const CENSOR = '[redacted]';
/** Credentials recognisable inside any string: bearer and basic credentials, Google access tokens, GitHub tokens, PEM private keys. */
const SECRET_TEXT: Array<[RegExp, string]> = [
  [/\b(Bearer|Basic|token)\s+[A-Za-z0-9._~+/=-]{8,}/gi, `$1 ${CENSOR}`],
  [/\bya29\.[A-Za-z0-9._-]+/g, CENSOR],
  [/\bgh[pousr]_[A-Za-z0-9]{20,}/g, CENSOR],
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g, CENSOR],
];

/** A copy of `value` with every secret-named field censored at any depth and secrets inside strings masked. */
export function redactDeep(value: unknown, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return SECRET_TEXT.reduce((s, [re, by]) => s.replace(re, by), value);
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[circular]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, seen));
  if (value instanceof Error)
    return { type: value.name, message: redactDeep(value.message, seen), stack: redactDeep(value.stack, seen) };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.has(k.toLowerCase()) ? CENSOR : redactDeep(v, seen);
  return out;
}

/**
 * Structured logs on stderr (stdout carries command output): JSON when stderr is not a TTY,
 * human-readable on a TTY. Credentials never reach a log line: fields, bindings and messages pass
 * through redactDeep.
 */
export function createLogger(
  opts: { level?: string; pretty?: boolean; destination?: NodeJS.WritableStream } = {},
): Pino & Logger {
  const destination = opts.destination ?? process.stderr;
  const usePretty = opts.pretty ?? (process.stderr.isTTY === true && !opts.destination);
  const options: pino.LoggerOptions = {
    level: opts.level ?? 'warn',
    base: { name: 'region-scout' },
    formatters: {
      log: (obj) => redactDeep(obj) as Record<string, unknown>,
    },
    hooks: {
      logMethod(args, method) {
        method.apply(this, args.map((a) => (typeof a === 'string' ? redactDeep(a) : a)) as Parameters<typeof method>);
      },
    },
  };
  const logger = usePretty
    ? pino(options, pretty({ destination: 2, sync: true, colorize: true, ignore: 'pid,hostname,name' }))
    : pino(options, destination as never);
  return redactingChildren(logger);
}

/** Child loggers' bindings are serialized once, outside the log formatter: censor them on the way in. */
function redactingChildren<L extends Pino>(logger: L): L {
  const child = logger.child.bind(logger);
  logger.child = ((bindings: pino.Bindings, options?: pino.ChildLoggerOptions) =>
    redactingChildren(child(redactDeep(bindings) as pino.Bindings, options))) as unknown as L['child'];
  return logger;
}
