import type { RegisterCommand } from './shared';
import { registerBacktest } from './backtest';
import { registerClassify } from './classify';
import { registerGet } from './get';
import { registerPin } from './pin';
import { registerPlan } from './plan';
import { registerProbe } from './probe';
import { registerQuota } from './quota';
import { registerRender } from './render';
import { registerReview } from './review';
import { registerSandbox } from './sandbox';
import { registerSignals } from './signals';
import { registerStart } from './start';
import { registerStatus } from './status';
import { registerSweep } from './sweep';
import { registerValidate } from './validate';

/** Every command, in the order `--help` lists them. Each module declares its own command and options. */
export const COMMANDS: readonly RegisterCommand[] = [
  registerRender,
  registerValidate,
  registerPin,
  registerReview,
  registerGet,
  registerStart,
  registerSweep,
  registerPlan,
  registerStatus,
  registerQuota,
  registerBacktest,
  registerClassify,
  registerSandbox,
  registerSignals,
  registerProbe,
];

export type { CliContext, RegisterCommand } from './shared';
