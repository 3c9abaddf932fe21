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
const CLUSTER_STATUS = [
  'STATUS_UNSPECIFIED',
  'PROVISIONING',
  'RUNNING',
  'RECONCILING',
  'STOPPING',
  'ERROR',
  'DEGRADED',
];

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

/** projects/<project>/locations/<location>/memberships/<id> (location: "global" or a region). */
const MEMBERSHIP_NAME = /^projects\/[^/]+\/locations\/([^/]+)\/memberships\/([^/]+)$/;

const FeatureSchema = z.object({
  membershipStates: z
    .record(
      z.string(),
      z.object({
        configmanagement: z
          .object({
            configSyncState: z
              .object({
                syncState: z
                  .object({
                    code: z.string().nullish(),
                    syncToken: z.string().nullish(),
                    errors: z.array(z.object({ errorMessage: z.string().nullish() })).nullish(),
                  })
                  .nullish(),
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
      const [res] = await this.clients.clusters.listClusters(
        { parent: `projects/${this.project}/locations/-` },
        NO_GAX_RETRY as never,
      );
      return (res.clusters ?? []).map((c) => {
        const p = ClusterSchema.parse(c);
        return {
          name: p.name,
          location: p.location,
          status:
            typeof p.status === 'number'
              ? (CLUSTER_STATUS[p.status] ?? String(p.status))
              : (p.status ?? 'STATUS_UNSPECIFIED'),
          autopilot: p.autopilot?.enabled ?? false,
          endpoint: p.endpoint ?? null,
        };
      });
    });
  }

  /**
   * Every membership of the fleet, global and regional: `locations/-` lists all locations in one
   * call (https://cloud.google.com/kubernetes-engine/fleet-management/docs/reference/rest/v1/projects.locations.memberships/list).
   * Each keeps its own location, which its Connect Gateway path must name.
   */
  memberships(): Promise<Membership[]> {
    return this.policy.run('gkehub', {}, async (signal) => {
      const out: Membership[] = [];
      let pageToken: string | undefined;
      do {
        const res = await this.clients.gkehub.projects.locations.memberships.list(
          { parent: `projects/${this.project}/locations/-`, pageToken },
          { retry: false, signal },
        );
        const page = MembershipList.parse(res.data);
        for (const m of page.resources ?? []) {
          const link = m.endpoint?.gkeCluster?.resourceLink ?? '';
          const cl = /locations\/([^/]+)\/clusters\/([^/]+)$/.exec(link);
          const where = MEMBERSHIP_NAME.exec(m.name);
          if (!where)
            throw new Error(
              `GKE Hub returned a membership name "${m.name}" that is not projects/*/locations/*/memberships/*`,
            );
          out.push({
            id: where[2]!,
            location: where[1]!,
            cluster: cl ? `${cl[1]}/${cl[2]}` : null,
            state: m.state?.code ?? 'UNKNOWN',
          });
        }
        pageToken = page.nextPageToken ?? undefined;
      } while (pageToken);
      return out;
    });
  }

  /** One request serves concurrent callers (configSync and projectNumber); never cached after. */
  private configManagement() {
    this.feature ??= this.policy
      .run('gkehub', {}, async (signal) => {
        const res = await this.clients.gkehub.projects.locations.features.get(
          { name: `projects/${this.project}/locations/global/features/configmanagement` },
          { retry: false, signal },
        );
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
      const where = MEMBERSHIP_NAME.exec(key);
      return {
        membership: where?.[2] ?? key.split('/').pop()!,
        location: where?.[1] ?? 'global',
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
