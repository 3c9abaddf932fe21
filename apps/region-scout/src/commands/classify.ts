import { createInterface } from 'node:readline';
import { classify } from '@gpu-fleet/scout-domain';
import { EXIT } from '../errors';
import type { Io } from '../context';

/** Read GCE/GKE messages, one per line, and print one JSON classification per line. */
export async function classifyCommand(input: NodeJS.ReadableStream, io: Io): Promise<number> {
  const rl = createInterface({ input, crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line.trim()) continue;
    const c = classify(line);
    io.out(
      JSON.stringify({
        kind: c.kind,
        scope: c.scope,
        zone: c.zone,
        region: c.region,
        gpu: c.gpu,
        suggestedZones: c.suggestedZones,
        metric: c.metric,
      }),
    );
  }
  return EXIT.ok;
}
