import { AUTOPILOT_GRACE, DRAINING_TIMEOUT_MAX_SECONDS } from '@gpu-fleet/gcp-catalog';
import { READY_GATE_STOP } from '../derived';
import { show } from '../issues';
import type { SemanticContext } from './context';

/** Draining and stopping: a removed or stopping backend finishes the longest request (ingress.backendTimeoutSec). */
export function checkDraining(ctx: SemanticContext): void {
  const { add, app, gpu, ingress } = ctx;
  if (ingress) {
    const longest = ingress.backendTimeoutSec;
    if (longest > DRAINING_TIMEOUT_MAX_SECONDS) {
      add(
        ['ingress', 'backendTimeoutSec'],
        `${longest} s cannot be drained: the load balancer keeps a removed backend's connections for at most ${DRAINING_TIMEOUT_MAX_SECONDS} s (drainingTimeoutSec), so longer generations would be cut on every rollout or drain; lower it to ${DRAINING_TIMEOUT_MAX_SECONDS} or less`,
      );
    }
    const drain = ingress.connectionDrainingSec ?? Math.min(longest, DRAINING_TIMEOUT_MAX_SECONDS);
    if (ingress.connectionDrainingSec !== undefined && ingress.connectionDrainingSec < longest) {
      add(
        ['ingress', 'connectionDrainingSec'],
        `${ingress.connectionDrainingSec} s is shorter than ingress.backendTimeoutSec (${longest} s): every rollout, drain or scale-down would cut generations after ${ingress.connectionDrainingSec} s; raise it to ${Math.min(longest, DRAINING_TIMEOUT_MAX_SECONDS)} or remove it (it defaults to backendTimeoutSec)`,
      );
    }
    const need = drain + READY_GATE_STOP.detachSeconds + READY_GATE_STOP.shutdownSeconds;
    if (app?.terminationGracePeriodSeconds !== undefined && app.terminationGracePeriodSeconds < need) {
      add(
        ['app', 'terminationGracePeriodSeconds'],
        `${app.terminationGracePeriodSeconds} s does not cover a pod's stop: ${READY_GATE_STOP.detachSeconds} s for its endpoint to leave the load balancer + up to ${drain} s for generations in flight (the draining time) + ${READY_GATE_STOP.shutdownSeconds} s for the WebUI to exit = ${need} s; raise it to ${need} or remove it`,
      );
    }
    if (
      gpu &&
      gpu.provisioning !== 'on-demand' &&
      !gpu.acceptCutGenerations &&
      longest > AUTOPILOT_GRACE.spotPreemptionMaxSeconds
    ) {
      add(
        ['gpu', 'provisioning'],
        `${show(gpu.provisioning)} runs pods on Spot VMs, and GKE gives a preempted Spot Pod at most ${AUTOPILOT_GRACE.spotPreemptionMaxSeconds} s to stop, while a generation may run ${longest} s (ingress.backendTimeoutSec): a preemption cuts it; use "on-demand", or set gpu.acceptCutGenerations: true to accept that`,
      );
    }
  }
}
