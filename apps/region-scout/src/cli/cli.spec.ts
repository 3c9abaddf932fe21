import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { COMMANDS, type CliContext } from './index';

const ctx = (): CliContext => ({
  io: { out: () => undefined, err: () => undefined },
  ws: () => {
    throw new Error('not in this test');
  },
  logger: () => {
    throw new Error('not in this test');
  },
  setExit: () => undefined,
  withClock: (o) => o,
});

describe('CLI commands: one module each, registering itself', () => {
  it('each module adds exactly one command, every name once, in the order --help lists them', () => {
    const names = COMMANDS.map((register) => {
      const program = new Command('t');
      register(program, ctx());
      expect(program.commands).toHaveLength(1);
      return program.commands[0]!.name();
    });
    expect(names).toEqual([
      'render',
      'validate',
      'pin',
      'review',
      'get',
      'start',
      'sweep',
      'plan',
      'status',
      'quota',
      'backtest',
      'classify',
      'sandbox',
      'signals',
      'probe',
    ]);
    const dir = __dirname;
    const modules = readdirSync(dir).filter((f) => f.endsWith('.ts') && !/^(index|shared)\.ts$|\.spec\.ts$/.test(f));
    expect(modules).toHaveLength(COMMANDS.length);
  });

  it('declaring the commands loads no command implementation (they are required when one runs)', () => {
    for (const f of readdirSync(__dirname).filter((x) => x.endsWith('.ts') && !x.endsWith('.spec.ts'))) {
      const text = readFileSync(join(__dirname, f), 'utf8');
      const valueImports = [...text.matchAll(/^import (?!type )[^;]*from '([^']+)';$/gms)].map((m) => m[1]);
      expect({ file: f, imports: valueImports.filter((i) => i!.startsWith('../')) }).toEqual({ file: f, imports: [] });
    }
  });
});
