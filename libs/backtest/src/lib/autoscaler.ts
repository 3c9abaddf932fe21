/**
 * The backtest's model of one KEDA ScaledObject and the HPA it drives (the objects libs/manifests
 * renders), minute by minute:
 * - KEDA polls its triggers every pollingInterval (30 s); the load gauge reaches Managed Service for
 *   Prometheus after a scrape (30 s), the load balancer's request_count after up to 210 s
 *   (https://cloud.google.com/monitoring/api/metrics_gcp_i_o#loadbalancing) — the caller hands in
 *   signals already that old.
 * - Desired = ceil(load / target) within [min, max]; a cold region (min 0) also wants 1 while a
 *   wake trigger is active.
 * - Scale-up at once; scale-down to the highest desired count of the last stabilisation window (the
 *   HPA's scaleDown.stabilizationWindowSeconds; KEDA's cooldownPeriod for the last replica, the same
 *   length here), one pod a minute (the rendered Pods policy).
 *   https://kubernetes.io/docs/concepts/workloads/autoscaling/horizontal-pod-autoscale/#stabilization-window
 */
export interface ScaledObjectModel {
  min: number;
  max: number;
  /** Generations per replica (threshold of the load trigger). */
  target: number;
  /** Stabilisation window and cooldown, in minutes. */
  idleMinutes: number;
}

export interface AutoscalerSignals {
  /** Running + queued generations in this cluster, as the metric shows it now. */
  load: number;
  /** A wake trigger is active (cold regions: users nearby, warm regions queueing). */
  wake: boolean;
}

export class KedaAutoscaler {
  private readonly window: number[];

  /** `running`: replicas when the ScaledObject takes over, remembered as a full window of recommendations. */
  constructor(
    readonly model: ScaledObjectModel,
    running = 0,
  ) {
    this.window = Array.from({ length: Math.max(0, model.idleMinutes - 1) }, () => running);
  }

  /** Replicas the HPA sets this minute, given the current count and the signals. */
  step(current: number, s: AutoscalerSignals): number {
    const { min, max, target, idleMinutes } = this.model;
    const raw = Math.min(max, Math.max(min, Math.ceil(s.load / target), s.wake ? 1 : 0));
    this.window.push(raw);
    if (this.window.length > idleMinutes) this.window.shift();
    const stabilised = Math.max(...this.window);
    if (stabilised >= current) return stabilised;
    return current - 1;
  }
}
