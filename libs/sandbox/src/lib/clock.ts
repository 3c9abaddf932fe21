/**
 * Sandbox clocks. The world runs on simulated time so a sweep that would wait minutes for a GPU
 * node finishes in seconds: sim time = start + real elapsed × factor.
 */
export interface SimClock {
  now(): Date;
  /** Real milliseconds for a simulated duration (used by pollers to wait). */
  realMs(simMs: number): number;
  /** Let a simulated duration pass: a compressed clock waits the real equivalent, a manual one moves at once. */
  sleep(simMs: number): Promise<void>;
}

export function compressedClock(start: Date, factor: number, realNow: () => number = Date.now): SimClock {
  const realStart = realNow();
  return {
    now: () => new Date(start.getTime() + (realNow() - realStart) * factor),
    realMs: (simMs) => simMs / factor,
    sleep: (simMs) => new Promise((resolve) => setTimeout(resolve, simMs / factor)),
  };
}

/** A clock tests move by hand. */
export class ManualClock implements SimClock {
  private t: number;
  constructor(start: Date) {
    this.t = start.getTime();
  }
  now(): Date {
    return new Date(this.t);
  }
  advance(ms: number): void {
    this.t += ms;
  }
  set(d: Date): void {
    this.t = d.getTime();
  }
  realMs(): number {
    return 0;
  }
  /** Moves the clock by the duration, then yields once so servers and pollers run in order. */
  async sleep(simMs: number): Promise<void> {
    this.advance(simMs);
    await new Promise((resolve) => setImmediate(resolve));
  }
}
