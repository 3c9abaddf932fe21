import type { Observation } from './types';

export interface ProbeBudgetPolicy {
  /** Probes per UTC day. */
  maxProbesPerDay: number;
  /** GPU-minutes per UTC day (count × minutes a probe may run, charged up front). */
  maxGpuMinutesPerDay: number;
}

export interface ProbeCharge {
  at: string;
  gpuMinutes: number;
}

/** The daily probe budget: charged before a probe starts, so a crash cannot overspend it. */
export class ProbeBudget {
  constructor(
    private readonly policy: ProbeBudgetPolicy,
    private readonly charges: ProbeCharge[] = [],
  ) {}

  private today(now: Date): ProbeCharge[] {
    const day = now.toISOString().slice(0, 10);
    return this.charges.filter((c) => c.at.slice(0, 10) === day);
  }

  remaining(now: Date): { probes: number; gpuMinutes: number } {
    const t = this.today(now);
    return {
      probes: this.policy.maxProbesPerDay - t.length,
      gpuMinutes: this.policy.maxGpuMinutesPerDay - t.reduce((s, c) => s + c.gpuMinutes, 0),
    };
  }

  /** Charge one probe; returns why not when over budget. */
  tryCharge(now: Date, gpuMinutes: number): { ok: true } | { ok: false; reason: string } {
    const r = this.remaining(now);
    if (r.probes < 1) return { ok: false, reason: `daily probe budget spent (${this.policy.maxProbesPerDay} probes)` };
    if (r.gpuMinutes < gpuMinutes)
      return { ok: false, reason: `daily GPU-minute budget left ${r.gpuMinutes} < ${gpuMinutes} needed` };
    this.charges.push({ at: now.toISOString(), gpuMinutes });
    return { ok: true };
  }

  /** Rebuild today's charges from probe observations in the ledger. */
  static fromObservations(
    policy: ProbeBudgetPolicy,
    obs: readonly Observation[],
    gpuMinutesPerProbe: number,
  ): ProbeBudget {
    return new ProbeBudget(
      policy,
      obs.filter((o) => o.source === 'probe').map((o) => ({ at: o.at, gpuMinutes: gpuMinutesPerProbe })),
    );
  }
}
