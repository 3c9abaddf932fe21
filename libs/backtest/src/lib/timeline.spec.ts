import { EXAMPLE_FLEET_YAML, loadFleetSpec } from '@gpu-fleet/fleet-spec';
import { cronStepMinutes, timelineFor } from './timeline';

const spec = loadFleetSpec(EXAMPLE_FLEET_YAML).spec;

describe('timeline defaults', () => {
  it('take the sweep interval from the cron and the health check from the spec', () => {
    expect(['*/20 * * * *', '0 * * * *', '0,30 * * * *', '*/5 3 * * *'].map(cronStepMinutes)).toEqual([
      20,
      60,
      30,
      null,
    ]);
    const checks = { ...spec.ingress.healthCheck, checkIntervalSec: 10, healthyThreshold: 3 };
    expect(timelineFor({ ...spec, ingress: { ...spec.ingress, healthCheck: checks } }).healthCheckSeconds).toBe(30);
    expect(timelineFor(spec)).toMatchObject({ healthCheckSeconds: 5, configSyncSeconds: 15 });
  });

  it('names the field and the value it refuses', () => {
    expect(() => timelineFor(spec, { nodeEventsPerMonth: 31 })).toThrow(
      /^backtest: nodeEventsPerMonth = 31 is invalid: /,
    );
  });
});
