import {
  quotaPlan,
  quotaPreferenceId,
  quotaVerdict,
  type QuotaNeed,
  type QuotaPlan,
  type QuotaReading,
  type QuotaVerdict,
} from '@gpu-fleet/scout-decide';
import type { Logger } from '@gpu-fleet/scout-domain';
import { readSpec, type Io, type Workspace } from '../context';
import { CliError, EXIT } from '../errors';
import { openCloudSession, sandboxBanner, type CloudOptions } from '../session';
import { table } from '../table';

export interface QuotaOptions extends CloudOptions {
  json?: boolean;
  /** Compare with the quotas Compute reports (Google: the spec's project or --project; or --sandbox). */
  live?: boolean;
  /** Contact address Google requires on a quota increase request (QuotaPreference.contactEmail). */
  email?: string;
}

interface Row extends QuotaNeed {
  limit: number | null;
  usage: number | null;
  verdict: QuotaVerdict | 'not compared';
  command: string | null;
}

const EMAIL = /^[^@\s"'$`\\]+@[^@\s"'$`\\]+\.[a-z]{2,}$/i;

/**
 * Print the Compute Engine quota the spec needs, per candidate region and GPU metric and
 * project-wide, with the exact command that requests each. With --live, read the current limits and
 * print only what is short; exit 1 when a request is still needed.
 */
export async function quotaCommand(ws: Workspace, io: Io, logger: Logger, options: QuotaOptions): Promise<number> {
  if (options.email !== undefined && !EMAIL.test(options.email)) {
    throw new CliError(
      `--email: "${options.email}" is not an email address. Google needs a contact address on every quota increase request; pass one such as --email=ops@example.com, or leave it out to get "$QUOTA_EMAIL" in the commands.`,
    );
  }
  if (!options.live && (options.project || options.sandbox)) {
    throw new CliError(
      `${options.project ? `--project "${options.project}"` : '--sandbox'} only applies with --live (compare with current quotas); without --live the requests come from the spec alone.`,
    );
  }
  const spec = readSpec(ws);
  const plan = quotaPlan(spec, ws.catalog);
  const project = options.sandbox ? plan.project : (options.project ?? plan.project);
  let readings: Map<string, QuotaReading> | null = null;
  let source = 'the spec and the bundled catalog (current limits not read: add --live)';
  let banner: string | null = null;
  if (options.live) {
    const session = await openCloudSession(ws, spec, io, logger, options);
    try {
      source = session.description;
      banner = sandboxBanner(session);
      readings = new Map();
      const [regions, projectQuotas] = await Promise.all([
        session.adapters.ports.quota.regionQuotas(),
        session.adapters.ports.quota.projectQuotas(),
      ]);
      for (const r of regions)
        for (const q of r.quotas) readings.set(`${r.region}|${q.metric}`, { limit: q.limit, usage: q.usage });
      for (const q of projectQuotas) readings.set(`|${q.metric}`, { limit: q.limit, usage: q.usage });
    } finally {
      await session.close();
    }
  }
  const rows: Row[] = plan.needs.map((n) => {
    const reading = readings?.get(`${n.region ?? ''}|${n.metric}`);
    const verdict = readings ? quotaVerdict(n, reading) : 'not compared';
    return {
      ...n,
      limit: reading?.limit ?? null,
      usage: reading?.usage ?? null,
      verdict,
      command: verdict === 'ok' ? null : requestCommand(n, project, options.email),
    };
  });
  const short = rows.filter((r) => r.verdict === 'request' || r.verdict === 'unknown');
  if (options.json) {
    io.out(
      JSON.stringify({
        project,
        source,
        needs: rows,
        skipped: plan.skipped,
        requestsNeeded: readings ? short.length : null,
      }),
    );
  } else {
    if (banner) io.out(banner);
    for (const line of formatQuota(project, source, rows, plan, readings !== null)) io.out(line);
  }
  return readings && short.length ? EXIT.checkFailed : EXIT.ok;
}

/**
 * The request as one command that can be pasted as is: `gcloud beta quotas preferences update
 * <id> --allow-missing` creates the preference or updates it, so running it twice is harmless.
 * https://cloud.google.com/sdk/gcloud/reference/beta/quotas/preferences/update
 * An increase needs a contact email (QuotaPreference.contactEmail: "When requesting a quota
 * increase, the email address is required").
 * https://cloud.google.com/docs/quotas/reference/rest/v1/projects.locations.quotaPreferences
 */
export function requestCommand(n: QuotaNeed, project: string, email: string | undefined): string {
  const parts = [
    `gcloud beta quotas preferences update ${quotaPreferenceId(n)}`,
    `--project=${project}`,
    '--service=compute.googleapis.com',
    `--quota-id=${n.quotaId}`,
    ...(n.region ? [`--dimensions=region=${n.region}`] : []),
    `--preferred-value=${n.needed}`,
    email ? `--email=${email}` : '--email="${QUOTA_EMAIL:?set QUOTA_EMAIL to your contact address}"',
    `--justification="gpu-fleet: ${n.why.replace(/"/g, "'")}"`,
    '--allow-missing',
  ];
  return parts.join(' ');
}

function formatQuota(project: string, source: string, rows: Row[], plan: QuotaPlan, compared: boolean): string[] {
  const out = [`quota · project ${project} · ${source}`, ''];
  const header = ['SCOPE', 'METRIC', 'QUOTA ID', 'NEED', ...(compared ? ['LIMIT', 'USED', ''] : []), 'COUNTED AS'];
  out.push(
    ...table(
      header,
      rows.map((r) => [
        r.region ?? 'project',
        r.metric + (r.confirmed ? '' : ' †'),
        r.quotaId,
        String(r.needed),
        ...(compared
          ? [r.limit === null ? '-' : String(r.limit), r.usage === null ? '-' : String(r.usage), r.verdict]
          : []),
        `${r.why}${r.region && !r.hasCluster ? ' (candidate, no cluster yet)' : ''}`,
      ]),
    ),
  );
  for (const s of plan.skipped) out.push(`  ${s.region}: not requested, ${s.reason}`);
  if (rows.some((r) => !r.confirmed)) {
    out.push(
      `  † metric named by Compute's pattern, not confirmed for this GPU type: newer GPU families may use a per-family quota; check with: gcloud beta quotas info list --project=${project} --service=compute.googleapis.com --format="value(quotaId)" | grep -i gpus`,
    );
  }
  const todo = rows.filter((r) => r.command);
  out.push('');
  if (!todo.length) {
    out.push(`every quota the spec needs is granted (${rows.length} checked)`);
    return out;
  }
  out.push(
    compared
      ? `${todo.length} request(s) to make (the Cloud Quotas API must be enabled: gcloud services enable cloudquotas.googleapis.com --project=${project}):`
      : `requests (enable the Cloud Quotas API first: gcloud services enable cloudquotas.googleapis.com --project=${project}); run with --live to print only the ones still short:`,
  );
  for (const r of todo)
    out.push(
      r.verdict === 'unknown'
        ? `# ${r.region ?? 'project'} ${r.metric}: Compute reports no such quota here; request it only if the list above shows the ID`
        : `# ${r.region ?? 'project'} ${r.metric}`,
      r.command!,
    );
  return out;
}
