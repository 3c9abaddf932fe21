import pino, { type Logger as Pino } from 'pino';
import pretty from 'pino-pretty';
import type { Logger } from '@gpu-fleet/scout-domain';

/**
 * Structured logs on stderr (stdout carries command output): JSON when stderr is not a TTY,
 * human-readable on a TTY. Credentials never reach a log line.
 */
export const REDACT_PATHS = [
  'token',
  '*.token',
  'accessToken',
  '*.accessToken',
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'privateKey',
  '*.privateKey',
  'password',
  '*.password',
  'client_secret',
  '*.client_secret',
];

export function createLogger(opts: { level?: string; pretty?: boolean; destination?: NodeJS.WritableStream } = {}): Pino & Logger {
  const destination = opts.destination ?? process.stderr;
  const usePretty = opts.pretty ?? (process.stderr.isTTY === true && !opts.destination);
  const options = { level: opts.level ?? 'warn', base: { name: 'region-scout' }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  return usePretty ? pino(options, pretty({ destination: 2, sync: true, colorize: true, ignore: 'pid,hostname,name' })) : pino(options, destination as never);
}
