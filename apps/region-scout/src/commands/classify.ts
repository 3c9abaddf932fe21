import { createInterface } from 'node:readline';
import { classify, type FailureFields } from '@gpu-fleet/scout-domain';
import { z } from 'zod';
import { EXIT } from '../errors';
import type { Io } from '../context';

/**
 * A line is either a message, or a JSON object {message, reason?, code?, httpStatus?} carrying the
 * structured fields the scout's adapters pass (an event's reason, a Google error code, the HTTP
 * status). A line that is JSON but not such an object (a raw error body) is a message.
 */
const Structured = z.object({
  message: z.string(),
  reason: z.string().optional(),
  code: z.string().optional(),
  httpStatus: z.number().int().optional(),
});

function parseLine(line: string): { message: string; fields: FailureFields } {
  if (line.trimStart().startsWith('{')) {
    try {
      const r = Structured.safeParse(JSON.parse(line));
      if (r.success) {
        const { message, ...fields } = r.data;
        return { message, fields };
      }
    } catch {
      // not JSON: a message that starts with "{"
    }
  }
  return { message: line, fields: {} };
}

/** Read GCE/GKE messages, one per line, and print one JSON classification per line. */
export async function classifyCommand(input: NodeJS.ReadableStream, io: Io): Promise<number> {
  const rl = createInterface({ input, crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line.trim()) continue;
    const { message, fields } = parseLine(line);
    const c = classify(message, fields);
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
