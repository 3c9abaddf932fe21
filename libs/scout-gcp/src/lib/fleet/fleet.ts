import { z } from 'zod';
import type { ConfigSyncStatus, FleetPort, GkeCluster, Membership } from '@gpu-fleet/scout-domain';
import type { GcpClients } from '../connection/connection';
import type { CallPolicy } from '../policy/policy';
import { NO_GAX_RETRY } from '../compute/compute';

const ClusterSchema = z.object({
  name: z.string().min(1),
  location: z.string().min(1),
  // The REST transport may encode enums as numbers (enum-encoding=int) or names.
  status: z.union([z.string(), z.number()]).nullish(),
  autopilot: z.object({ enabled: z.boolean().nullish() }).nullish(),
  endpoint: z.string().nullish(),
});
const CLUSTER_STATUS = ['STATUS_UNSPECIFIED', 'PROVISIONING', 'RUNNING', 'RECONCILING', 'STOPPING', 'ERROR', 'DEGRADED'];

const MembershipList = z.object({
  resources: z
    .array(
      z.object({
        name: z.string().min(1),
        endpoint: z.object({ gkeCluster: z.object({ resourceLink: z.string() }).nullish() }).nullish(),
        state: z.object({ code: z.string().nullish() }).nullish(),
      }),
    )
    .nullish(),
  nextPageToken: z.string().nullish(),
});

const FeatureSchema = z.object({
  membershipStates: z
    .record(
      z.string(),
      z.object({
        configmanagement: z
          .object({
            configSyncState: z
              .object({
                syncState: z.object({ code: z.string().nullish(), syncToken: z.string().nullish(), errors: z.array(z.object({ errorMessage: z.string().nullish() })).nullish() }).nullish(),
              })
              .nullish(),
          })
          .nullish(),
      }),
    )
    .nullish(),
});

/**
 * The fleet as Google sees it: GKE clusters in every location (one call), fleet memberships and each
 * membership's Config Sync state from the configmanagement feature (GKE Hub v1 through googleapis).
 */
export class GkeFleet implements FleetPort {
  private feature?: Promise<z.infer<typeof FeatureSchema>>;

  constructor(
    private readonly clients: Pick<GcpClients, 'clusters' | 'gkehub'>,
    private readonly project: string,
    private readonly policy: CallPolicy,
  ) {}

  clusters(): Promise<GkeCluster[]> {
    return this.policy.run('container', {}, async () => {
      const [res] = await this.clients.clusters.listClusters({ parent: `projects/${this.project}/locations/-` }, NO_GAX_RETRY as never);
      return (res.clusters ?? []).map((c) => {
        const p = ClusterSchema.parse(c);
        return {
          name: p.name,
          location: p.location,
          status: typeof p.status === 'number' ? (CLUSTER_STATUS[p.status] ?? String(p.status)) : (p.status ?? 'STATUS_UNSPECIFIED'),
          autopilot: p.autopilot?.enabled ?? false,
          endpoint: p.endpoint ?? null,
        };
      });
    });
  }

  memberships(): Promise<Membership[]> {
    return this.policy.run('gkehub', {}, async () => {
      const out: Membership[] = [];
      let pageToken: string | undefined;
      do {
        const res = await this.clients.gkehub.projects.locations.memberships.list({ parent: `projects/${this.project}/locations/global`, pageToken }, { retry: false });
        const page = MembershipList.parse(res.data);
        for (const m of page.resources ?? []) {
          const link = m.endpoint?.gkeCluster?.resourceLink ?? '';
          const cl = /locations\/([^/]+)\/clusters\/([^/]+)$/.exec(link);
          out.push({ id: m.name.split('/').pop()!, cluster: cl ? `${cl[1]}/${cl[2]}` : null, state: m.state?.code ?? 'UNKNOWN' });
        }
        pageToken = page.nextPageToken ?? undefined;
      } while (pageToken);
      return out;
    });
  }

  /** One request serves concurrent callers (configSync and projectNumber); never cached after. */
  private configManagement() {
    this.feature ??= this.policy
      .run('gkehub', {}, async () => {
        const res = await this.clients.gkehub.projects.locations.features.get({ name: `projects/${this.project}/locations/global/features/configmanagement` }, { retry: false });
        return FeatureSchema.parse(res.data);
      })
      .finally(() => {
        this.feature = undefined;
      });
    return this.feature;
  }

  async configSync(): Promise<ConfigSyncStatus[]> {
    const feature = await this.configManagement();
    return Object.entries(feature.membershipStates ?? {}).map(([key, state]) => {
      const s = state.configmanagement?.configSyncState?.syncState;
      return {
        membership: key.split('/').pop()!,
        code: s?.code ?? 'NOT_CONFIGURED',
        syncToken: s?.syncToken ?? null,
        errors: (s?.errors ?? []).map((e) => e.errorMessage ?? '').filter(Boolean),
      };
    });
  }

  /**
   * The project number, which Connect Gateway URLs need. The configmanagement feature keys its
   * membership states by "projects/<number>/locations/global/memberships/<id>", so no extra API
   * (Resource Manager) or role is needed to learn it.
   */
  async projectNumber(): Promise<string> {
    const feature = await this.configManagement();
    const key = Object.keys(feature.membershipStates ?? {})[0];
    const num = key ? /^projects\/(\d+)\//.exec(key)?.[1] : undefined;
    if (!num) throw new Error('project number unknown: the configmanagement feature lists no memberships');
    return num;
  }
}
