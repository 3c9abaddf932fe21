/** Exit codes of region-scout: a stable interface for scripts and CI. */
export const EXIT = { ok: 0, checkFailed: 1, badInput: 2 } as const;

/** An error the CLI reports as one clear message (no stack trace unless --debug). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.badInput,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
