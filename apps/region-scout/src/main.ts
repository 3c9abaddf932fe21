#!/usr/bin/env node
import { run } from './program';
import { defaultErr } from './progress';

run(process.argv.slice(2), {
  cwd: process.cwd(),
  io: { out: (l) => process.stdout.write(l + '\n'), err: defaultErr },
}).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`error: ${(e as Error).message}\n`);
    process.exitCode = 2;
  },
);
