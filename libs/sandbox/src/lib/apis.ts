import { HttpError, googleError, paginate, type Handler } from './http';
import { AdmissionError, type SandboxWorld, type PodView, type ProbeJob } from './world';

const GCE = 'https://www.googleapis.com/compute/v1';
const iso = (t: number) => new Date(t).toISOString();
const notFound = (what: string) =>
  new HttpError(
    404,
    `The resource '${what}' was not found`,
    googleError(404, `The resource '${what}' was not found`, 'notFound'),
  );

function checkProject(world: SandboxWorld, p: string | undefined) {
  if (p !== world.project)
    throw new HttpError(
      403,
      `Permission denied on resource project ${p}.`,
      googleError(403, `Permission denied on resource project ${p}.`, 'forbidden'),
    );
}

/** Compute Engine v1 REST: acceleratorTypes.aggregatedList, regions.list, projects.get, globalAddresses.get. */
export function computeApi(world: SandboxWorld): Handler {
  return async ({ method, path, query }) => {
    if (method !== 'GET') throw new HttpError(405, `${method} not supported by the sandbox`);
    let m = /^\/compute\/v1\/projects\/([^/]+)\/aggregated\/acceleratorTypes$/.exec(path);
    if (m) {
      checkProject(world, m[1]);
      const zones = world.catalog
        .regions()
        .flatMap((r) => r.zones)
        .sort();
      const { page, nextPageToken } = paginate(zones, query, 'maxResults', 500, world.pageSizeCap);
      const items: Record<string, unknown> = {};
      for (const zone of page) {
        const types = world.catalog.offerings().filter((o) => o.zone === zone);
        items[`zones/${zone}`] = types.length
          ? {
              acceleratorTypes: types.map((offering) => ({
                kind: 'compute#acceleratorType',
                id: String(1000 + (offering.gpu.length * 7919 + zone.length)),
                name: offering.gpu,
                description: world.catalog.gpu(offering.gpu)?.displayName ?? offering.gpu,
                zone: `${GCE}/projects/${world.project}/zones/${zone}`,
                selfLink: `${GCE}/projects/${world.project}/zones/${zone}/acceleratorTypes/${offering.gpu}`,
                maximumCardsPerInstance: Math.max(...offering.counts),
              })),
            }
          : {
              warning: {
                code: 'NO_RESULTS_ON_PAGE',
                message: `There are no results for scope 'zones/${zone}' on this page.`,
                data: [{ key: 'scope', value: `zones/${zone}` }],
              },
            };
      }
      return {
        body: {
          kind: 'compute#acceleratorTypeAggregatedList',
          id: `projects/${world.project}/aggregated/acceleratorTypes`,
          items,
          selfLink: `${GCE}${path}`,
          ...(nextPageToken ? { nextPageToken } : {}),
        },
      };
    }
    m = /^\/compute\/v1\/projects\/([^/]+)\/regions$/.exec(path);
    if (m) {
      checkProject(world, m[1]);
      const regions = world.catalog
        .regions()
        .map((r) => r.region)
        .sort();
      const { page, nextPageToken } = paginate(regions, query, 'maxResults', 500, world.pageSizeCap);
      return {
        body: {
          kind: 'compute#regionList',
          items: page.map((r) => ({
            kind: 'compute#region',
            name: r,
            status: 'UP',
            zones: (world.catalog.region(r)?.zones ?? []).map((z) => `${GCE}/projects/${world.project}/zones/${z}`),
            quotas: world.regionQuotas(r),
            selfLink: `${GCE}/projects/${world.project}/regions/${r}`,
          })),
          ...(nextPageToken ? { nextPageToken } : {}),
        },
      };
    }
    m = /^\/compute\/v1\/projects\/([^/]+)$/.exec(path);
    if (m) {
      checkProject(world, m[1]);
      return {
        body: { kind: 'compute#project', name: world.project, id: world.projectNumber, quotas: world.projectQuotas() },
      };
    }
    m = /^\/compute\/v1\/projects\/([^/]+)\/global\/addresses\/([^/]+)$/.exec(path);
    if (m) {
      checkProject(world, m[1]);
      const ip = world.spec.ingress.staticIp;
      if (m[2] !== ip.name) throw notFound(`projects/${world.project}/global/addresses/${m[2]}`);
      return {
        body: {
          kind: 'compute#address',
          name: ip.name,
          address: ip.address ?? '34.149.46.112',
          addressType: 'EXTERNAL',
          status: 'RESERVED',
          networkTier: 'PREMIUM',
        },
      };
    }
    throw notFound(path);
  };
}

/** GKE v1 REST: projects.locations.clusters.list / get. Honours enum-encoding=int like Google. */
export function containerApi(world: SandboxWorld): Handler {
  const STATUS = { RUNNING: 2 };
  return async ({ method, path, query }) => {
    if (method !== 'GET') throw new HttpError(405, `${method} not supported by the sandbox`);
    const ints = (query.get('$alt') ?? '').includes('enum-encoding=int');
    const cluster = (c: { name: string; location: string }, i: number) => ({
      name: c.name,
      location: c.location,
      locations: world.catalog.region(c.location)?.zones ?? [],
      status: ints ? STATUS.RUNNING : 'RUNNING',
      autopilot: { enabled: true },
      endpoint: `10.${(i * 7) % 250}.0.2`,
      currentMasterVersion: '1.33.5-gke.1162000',
      releaseChannel: { channel: ints ? 2 : 'REGULAR' },
      selfLink: `https://container.googleapis.com/v1/projects/${world.project}/locations/${c.location}/clusters/${c.name}`,
    });
    let m = /^\/v1\/projects\/([^/]+)\/locations\/-\/clusters$/.exec(path);
    if (m) {
      checkProject(world, m[1]);
      return { body: { clusters: world.clusters().map(cluster) } };
    }
    m = /^\/v1\/projects\/([^/]+)\/locations\/([^/]+)\/clusters\/([^/]+)$/.exec(path);
    if (m) {
      checkProject(world, m[1]);
      const i = world.clusters().findIndex((c) => c.location === m![2] && c.name === m![3]);
      if (i < 0) throw notFound(`projects/${m[1]}/locations/${m[2]}/clusters/${m[3]}`);
      return { body: cluster(world.clusters()[i]!, i) };
    }
    throw notFound(path);
  };
}

/**
 * GKE Hub v1 REST: memberships.list, features.get(configmanagement). Memberships are global or
 * regional; `locations/-` lists every location, as Google's API accepts
 * (https://cloud.google.com/kubernetes-engine/fleet-management/docs/reference/rest/v1/projects.locations.memberships/list),
 * and a location with none answers an empty list.
 */
export function gkehubApi(world: SandboxWorld): Handler {
  const knownLocation = (l: string) => l === '-' || l === 'global' || !!world.catalog.region(l);
  return async ({ method, path, query }) => {
    if (method !== 'GET') throw new HttpError(405, `${method} not supported by the sandbox`);
    let m = /^\/v1\/projects\/([^/]+)\/locations\/([^/]+)\/memberships$/.exec(path);
    if (m) {
      checkProject(world, m[1]);
      const location = m[2]!;
      if (!knownLocation(location))
        throw new HttpError(
          400,
          `Location "${location}" is not a valid location`,
          googleError(400, `Invalid location: ${location}`, 'badRequest'),
        );
      const listed = world.memberships().filter((x) => location === '-' || x.location === location);
      const { page, nextPageToken } = paginate(listed, query, 'pageSize', 100, world.pageSizeCap);
      return {
        body: {
          resources: page.map((x) => ({
            name: `projects/${world.project}/locations/${x.location}/memberships/${x.name}`,
            endpoint: {
              gkeCluster: {
                resourceLink: `//container.googleapis.com/projects/${world.project}/locations/${x.cluster.location}/clusters/${x.cluster.name}`,
              },
            },
            state: { code: 'READY' },
            uniqueId: x.name
              .split('')
              .reduce((a, ch) => a + ch.charCodeAt(0), 0)
              .toString(16),
          })),
          ...(nextPageToken ? { nextPageToken } : {}),
        },
      };
    }
    m = /^\/v1\/projects\/([^/]+)\/locations\/global\/features\/configmanagement$/.exec(path);
    if (m) {
      checkProject(world, m[1]);
      const token = world.syncToken();
      const states: Record<string, unknown> = {};
      for (const x of world.memberships()) {
        // Hub keys membership states by project NUMBER, not id, and by the membership's own location.
        states[`projects/${world.projectNumber}/locations/${x.location}/memberships/${x.name}`] = {
          state: { code: 'OK', description: 'Config Sync is synced' },
          configmanagement: {
            configSyncState: {
              syncState: {
                code: 'SYNCED',
                syncToken: token,
                sourceToken: token,
                lastSyncTime: new Date(world.now()).toISOString(),
              },
              deploymentState: { reconcilerManager: 'INSTALLED', rootReconciler: 'INSTALLED' },
            },
          },
        };
      }
      return {
        body: {
          name: `projects/${world.project}/locations/global/features/configmanagement`,
          membershipStates: states,
        },
      };
    }
    throw notFound(path);
  };
}

// ---- Kubernetes through Connect Gateway ---------------------------------------------------------

/**
 * Equality-based label selectors, comma-separated (ANDed): `key`, `key=value`, `key==value` and
 * `key!=value`, which also matches objects without the key
 * (https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#equality-based-requirement).
 */
function matchesSelector(labels: Record<string, string>, selector: string | null): boolean {
  if (!selector) return true;
  return selector.split(',').every((term) => {
    const ne = /^([^!=]+)!=(.*)$/.exec(term);
    if (ne) return labels[ne[1]!] !== ne[2];
    const eq = /^([^!=]+)==?(.*)$/.exec(term);
    return eq ? labels[eq[1]!] === eq[2] : term in labels;
  });
}

const k8sStatus = (code: number, reason: string, message: string) => ({
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message,
  reason,
  code,
});

function podObject(p: PodView) {
  const scheduled = p.phase !== 'Pending' || p.startedAt !== null;
  const state = p.container?.waiting
    ? { waiting: p.container.waiting }
    : p.container?.terminated
      ? {
          terminated: {
            ...p.container.terminated,
            startedAt: iso(p.startedAt ?? p.createdAt),
            finishedAt: iso((p.startedAt ?? p.createdAt) + 5_000),
          },
        }
      : p.phase === 'Running'
        ? { running: { startedAt: iso(p.startedAt ?? p.createdAt) } }
        : p.phase === 'Succeeded'
          ? {
              terminated: {
                reason: 'Completed',
                exitCode: 0,
                startedAt: iso(p.startedAt ?? p.createdAt),
                finishedAt: iso((p.startedAt ?? p.createdAt) + 20_000),
              },
            }
          : scheduled
            ? { waiting: { reason: 'ContainerCreating' } }
            : undefined;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: p.name,
      namespace: p.namespace,
      uid: p.uid,
      labels: p.labels,
      creationTimestamp: iso(p.createdAt),
      ...(p.ownerJob
        ? { ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: p.ownerJob, uid: p.uid, controller: true }] }
        : {}),
    },
    spec: { nodeName: p.zone ? `gk3-node-${p.zone}` : undefined, containers: [{ name: 'main', image: 'sandbox' }] },
    status: {
      phase: p.phase,
      ...(p.reason ? { reason: p.reason } : {}),
      ...(p.message ? { message: p.message } : {}),
      ...(p.startedAt ? { startTime: iso(p.startedAt) } : {}),
      conditions: !scheduled
        ? [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', lastTransitionTime: iso(p.createdAt) }]
        : [
            { type: 'PodScheduled', status: 'True', lastTransitionTime: iso(p.startedAt ?? p.createdAt) },
            {
              type: 'Ready',
              status: p.ready ? 'True' : 'False',
              lastTransitionTime: iso(p.readyAt ?? p.startedAt ?? p.createdAt),
            },
          ],
      ...(state
        ? { containerStatuses: [{ name: 'main', image: 'sandbox', ready: !!p.ready, restartCount: 0, state }] }
        : {}),
      ...(p.zone ? { hostIP: '10.128.0.9' } : {}),
    },
  };
}

function jobObject(world: SandboxWorld, j: ProbeJob) {
  const pod = world.pods(j.membership, j.namespace).find((p) => p.ownerJob === j.name);
  const conditions = world.jobConditions(j);
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: j.name,
      namespace: j.namespace,
      uid: j.uid,
      labels: j.labels,
      creationTimestamp: iso(j.createdAt),
    },
    spec: j.body.spec,
    status: {
      startTime: iso(j.createdAt),
      active: pod && (pod.phase === 'Pending' || pod.phase === 'Running') ? 1 : 0,
      succeeded: pod?.phase === 'Succeeded' ? 1 : 0,
      failed: pod?.phase === 'Failed' ? 1 : 0,
      ...(conditions.length
        ? {
            conditions: conditions.map((c) => ({
              ...c,
              lastProbeTime: iso(c.lastTransitionTime),
              lastTransitionTime: iso(c.lastTransitionTime),
            })),
          }
        : {}),
      ...(pod?.phase === 'Succeeded' ? { completionTime: iso((pod.startedAt ?? j.createdAt) + 20_000) } : {}),
    },
  };
}

/** Field selectors on events: involvedObject.kind and involvedObject.name, comma-separated (ANDed). */
function eventFilter(fieldSelector: string | null): (ref: { kind: string; name: string }) => boolean {
  const terms = (fieldSelector ?? '')
    .split(',')
    .filter(Boolean)
    .map((t) => t.split('=') as [string, string]);
  return (ref) =>
    terms.every(([k, v]) =>
      k === 'involvedObject.kind' ? ref.kind === v : k === 'involvedObject.name' ? ref.name === v : true,
    );
}

/**
 * The host Connect Gateway answers a membership location on, as Google's own tooling builds it:
 * no prefix for "global", "<location>-" before connectgateway.googleapis.com for a regional
 * membership (gcloud's GetConnectGatewayServiceName, lib/googlecloudsdk/command_lib/container/fleet/
 * memberships/util.py: `prefix = '' if location in ('global', None) else '{}-'.format(location)`;
 * the same rule in GoogleCloudPlatform/gke-fleet-management fleet-argocd-plugin/fleetclient).
 */
export const connectGatewayHostFor = (location: string): string =>
  location === 'global' ? 'connectgateway.googleapis.com' : `${location}-connectgateway.googleapis.com`;

/**
 * The Kubernetes API of each fleet member at
 * <gateway>/v1/projects/<number>/locations/<membership location>/gkeMemberships/<m>. Loopback has
 * one address for every host, so the sandbox takes the host Google would be reached on as the
 * first path segment (its endpoint is the template http://127.0.0.1:<port>/{host}) and refuses a
 * membership on another location's host — a regional membership through the global host, as a
 * client that ignores the location does (google-cloud-python#13852 reports Google's answer to that
 * as "400 … Request contains an invalid argument."). A regional membership is not found under
 * locations/global, nor a global one under its cluster's region.
 */
export function connectGatewayApi(world: SandboxWorld): Handler {
  return async ({ method, path: fullPath, query, body }) => {
    const h = /^\/([^/]+)(\/.*)$/.exec(fullPath);
    const host = h?.[1] ?? '';
    const path = h?.[2] ?? fullPath;
    if (!/^([a-z0-9-]+-)?connectgateway\.googleapis\.com$/.test(host))
      throw new HttpError(
        404,
        `no Connect Gateway host in ${fullPath}: the sandbox endpoint is <url>/{host}, {host} being connectgateway.googleapis.com or <location>-connectgateway.googleapis.com`,
      );
    const m = /^\/v1\/projects\/([^/]+)\/locations\/([^/]+)\/gkeMemberships\/([^/]+)(\/.*)$/.exec(path);
    if (!m) throw new HttpError(404, `no route ${path}`);
    if (m[1] !== world.projectNumber)
      throw new HttpError(403, `Permission denied on project ${m[1]} (Connect Gateway expects the project number)`);
    const [location, membership] = [m[2]!, m[3]!];
    if (host !== connectGatewayHostFor(location))
      throw new HttpError(
        400,
        `Request contains an invalid argument. (membership location ${location} is served at ${connectGatewayHostFor(location)}, not ${host})`,
      );
    if (!world.membership(location, membership))
      throw new HttpError(
        404,
        `membership ${membership} not found`,
        googleError(
          404,
          `Resource 'projects/${m[1]}/locations/${location}/memberships/${membership}' was not found`,
          'notFound',
        ),
      );
    const rest = m[4]!;
    const sel = query.get('labelSelector');
    let k: RegExpExecArray | null;

    if ((k = /^\/api\/v1\/namespaces\/([^/]+)\/configmaps(?:\/([^/]+))?$/.exec(rest))) {
      const [ns, name] = [k[1]!, k[2]];
      const obj = (
        n: string,
        cm: {
          data: Record<string, string>;
          binaryData?: Record<string, string>;
          labels: Record<string, string>;
          resourceVersion: number;
        },
      ) => ({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: n, namespace: ns, labels: cm.labels, resourceVersion: String(cm.resourceVersion) },
        data: cm.data,
        ...(cm.binaryData ? { binaryData: cm.binaryData } : {}),
      });
      const write = (n: string, create: boolean) => {
        const b = body as {
          metadata?: { labels?: Record<string, string>; resourceVersion?: string };
          data?: Record<string, string>;
          binaryData?: Record<string, string>;
        };
        try {
          return obj(
            n,
            world.putConfigMap(
              membership,
              ns,
              n,
              {
                data: b.data,
                binaryData: b.binaryData,
                labels: b.metadata?.labels,
                resourceVersion: b.metadata?.resourceVersion,
              },
              create,
            ),
          );
        } catch (e) {
          const [reason] = (e as Error).message.split(':');
          const code = { AlreadyExists: 409, Conflict: 409, NotFound: 404, Invalid: 422 }[reason as 'Conflict'] ?? 500;
          const message = reason === 'Invalid' ? (e as Error).message.slice('Invalid: '.length) : (e as Error).message;
          throw new HttpError(code, message, k8sStatus(code, reason!, message));
        }
      };
      if (method === 'POST' && !name)
        return { status: 201, body: write((body as { metadata?: { name?: string } }).metadata?.name ?? '', true) };
      if (name && method === 'PUT') return { body: write(name, false) };
      if (name && method === 'GET') {
        const cm = world.getConfigMap(membership, ns, name);
        if (!cm) throw new HttpError(404, 'not found', k8sStatus(404, 'NotFound', `configmaps "${name}" not found`));
        return { body: obj(name, cm) };
      }
    }
    if ((k = /^\/api\/v1\/namespaces\/([^/]+)\/pods$/.exec(rest))) {
      const pods = world.pods(membership, k[1]).filter((p) => matchesSelector(p.labels, sel));
      if (method === 'GET')
        return {
          body: {
            apiVersion: 'v1',
            kind: 'PodList',
            metadata: { resourceVersion: String(world.now()) },
            items: pods.map(podObject),
          },
        };
      if (method === 'DELETE') {
        for (const p of pods) if (p.ownerJob) world.deleteJob(membership, k[1]!, p.ownerJob);
        return { body: { apiVersion: 'v1', kind: 'PodList', metadata: {}, items: pods.map(podObject) } };
      }
    }
    if ((k = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/log$/.exec(rest)) && method === 'GET') {
      const pod = world.pods(membership, k[1]).find((p) => p.name === k![2]);
      if (!pod) throw new HttpError(404, 'not found', k8sStatus(404, 'NotFound', `pods "${k[2]}" not found`));
      if (pod.phase === 'Pending')
        throw new HttpError(
          400,
          'pending',
          k8sStatus(400, 'BadRequest', `container "main" in pod "${pod.name}" is waiting to start: ContainerCreating`),
        );
      return { body: pod.log, contentType: 'text/plain' };
    }
    if ((k = /^\/api\/v1\/namespaces\/([^/]+)\/events$/.exec(rest)) && method === 'GET') {
      const wanted = eventFilter(query.get('fieldSelector'));
      const podEvents = world
        .pods(membership, k[1])
        .filter((p) => wanted({ kind: 'Pod', name: p.name }))
        .flatMap((p) =>
          p.events.map((e, i) => ({
            apiVersion: 'v1',
            kind: 'Event',
            metadata: { name: `${p.name}.${i}`, namespace: p.namespace },
            involvedObject: { kind: 'Pod', name: p.name, namespace: p.namespace, uid: p.uid },
            reason: e.reason,
            message: e.message,
            type: e.type,
            source: { component: e.reason.includes('ScaleUp') ? 'cluster-autoscaler' : 'default-scheduler' },
            firstTimestamp: iso(e.at),
            lastTimestamp: iso(e.lastAt ?? e.at),
            count: e.count ?? 1,
          })),
        );
      // The Job controller's FailedCreate series on each Job whose pod it could not create.
      const jobEvents = world
        .listJobs(membership, k[1]!)
        .filter((j) => j.failedCreate && wanted({ kind: 'Job', name: j.name }))
        .map((j) => ({
          apiVersion: 'v1',
          kind: 'Event',
          metadata: { name: `${j.name}.failedcreate`, namespace: j.namespace },
          involvedObject: { kind: 'Job', apiVersion: 'batch/v1', name: j.name, namespace: j.namespace, uid: j.uid },
          reason: 'FailedCreate',
          message: j.failedCreate!.message,
          type: 'Warning',
          source: { component: 'job-controller' },
          firstTimestamp: iso(j.failedCreate!.first),
          lastTimestamp: iso(j.failedCreate!.last),
          count: j.failedCreate!.count,
        }));
      return { body: { apiVersion: 'v1', kind: 'EventList', metadata: {}, items: [...podEvents, ...jobEvents] } };
    }
    if ((k = /^\/apis\/batch\/v1\/namespaces\/([^/]+)\/jobs$/.exec(rest))) {
      const ns = k[1]!;
      if (method === 'POST') {
        try {
          const job = world.createJob(membership, ns, body as Record<string, unknown>);
          return { status: 201, body: jobObject(world, job) };
        } catch (e) {
          if (e instanceof AdmissionError) throw new HttpError(403, e.message, k8sStatus(403, 'Forbidden', e.message));
          if ((e as Error).message.startsWith('AlreadyExists'))
            throw new HttpError(409, 'exists', k8sStatus(409, 'AlreadyExists', (e as Error).message));
          throw e;
        }
      }
      const jobs = world.listJobs(membership, ns).filter((j) => matchesSelector(j.labels, sel));
      if (method === 'GET')
        return {
          body: { apiVersion: 'batch/v1', kind: 'JobList', metadata: {}, items: jobs.map((j) => jobObject(world, j)) },
        };
      if (method === 'DELETE') {
        for (const j of jobs) world.deleteJob(membership, ns, j.name);
        return { body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success' } };
      }
    }
    if ((k = /^\/apis\/batch\/v1\/namespaces\/([^/]+)\/jobs\/([^/]+)$/.exec(rest))) {
      const job = world.getJob(membership, k[1]!, k[2]!);
      if (!job) throw new HttpError(404, 'not found', k8sStatus(404, 'NotFound', `jobs.batch "${k[2]}" not found`));
      if (method === 'GET') return { body: jobObject(world, job) };
      if (method === 'DELETE') {
        world.deleteJob(membership, k[1]!, k[2]!);
        return {
          body: {
            kind: 'Status',
            apiVersion: 'v1',
            metadata: {},
            status: 'Success',
            details: { name: k[2], group: 'batch', kind: 'jobs' },
          },
        };
      }
    }
    throw new HttpError(
      404,
      'not found',
      k8sStatus(404, 'NotFound', `the server could not find the requested resource (${method} ${rest})`),
    );
  };
}
