import type { Namespace } from 'kubernetes-types/core/v1';
import {
  appNamespace,
  certificateNames,
  connectionDrainingSeconds,
  servingClusters,
  type FleetSpec,
} from '@gpu-fleet/fleet-spec';
import type { BackendConfig, FrontendConfig, MultiClusterIngress, MultiClusterService } from '../gke-types';
import { commonLabels, servingSelector } from '../labels';
import { namespace, readinessEndpoint } from './workload';

/** A traffic layer: the objects the config cluster needs to expose the app at one global VIP. */
export interface TrafficLayer {
  readonly api: FleetSpec['ingress']['api'];
  objects(
    spec: FleetSpec,
  ): Array<Namespace | MultiClusterService | BackendConfig | FrontendConfig | MultiClusterIngress>;
}

/** Name, namespace and labels every traffic object shares: the app's, in the app namespace. */
const trafficMetadata = (spec: FleetSpec) => ({
  name: spec.app.name,
  namespace: appNamespace(spec),
  labels: commonLabels(spec),
});

/**
 * The MultiClusterService: the app's pods in every serving cluster, with the BackendConfig attached.
 * Backends restricted to the active clusters: draining/standby clusters get no traffic.
 * Links are "<location>/<cluster>" (https://cloud.google.com/kubernetes-engine/docs/how-to/multi-cluster-ingress#cluster_selection).
 */
function multiClusterService(spec: FleetSpec): MultiClusterService {
  const metadata = trafficMetadata(spec);
  return {
    apiVersion: 'networking.gke.io/v1',
    kind: 'MultiClusterService',
    metadata: {
      ...metadata,
      annotations: {
        'cloud.google.com/backend-config': JSON.stringify({ ports: { [String(spec.app.port)]: metadata.name } }),
      },
    },
    spec: {
      template: {
        spec: {
          selector: servingSelector(spec),
          ports: [{ name: 'http', protocol: 'TCP', port: spec.app.port, targetPort: spec.app.port }],
        },
      },
      clusters: servingClusters(spec)
        .map((c) => ({ link: `${c.region}/${c.name}` }))
        .sort((a, b) => a.link.localeCompare(b.link)),
    },
  };
}

/**
 * The BackendConfig: timeouts, draining, health check, session affinity, IAP and logging of the
 * load balancer's backend service.
 * Failover time ≈ checkIntervalSec × unhealthyThreshold; timeoutSec covers a long generation and
 * draining covers timeoutSec, so a removed backend finishes what it started.
 * The health check asks the readiness signal itself (the ready gate's port and path): a set
 * `port` makes the check use that fixed port on each endpoint, not the serving port
 * (kubernetes/ingress-gce pkg/translator/healthchecks.go: Port → PortSpecification USE_FIXED_PORT).
 */
function backendConfig(spec: FleetSpec): BackendConfig {
  const { ingress } = spec;
  const ready = readinessEndpoint(spec);
  return {
    apiVersion: 'cloud.google.com/v1',
    kind: 'BackendConfig',
    metadata: trafficMetadata(spec),
    spec: {
      timeoutSec: ingress.backendTimeoutSec,
      connectionDraining: { drainingTimeoutSec: connectionDrainingSeconds(spec) },
      healthCheck: {
        type: 'HTTP',
        requestPath: ready.path,
        port: ready.port,
        ...ingress.healthCheck,
      },
      sessionAffinity:
        ingress.sessionAffinity === 'generated-cookie'
          ? { affinityType: 'GENERATED_COOKIE', affinityCookieTtlSec: ingress.affinityCookieTtlSec }
          : { affinityType: 'NONE' },
      iap: ingress.iap.enabled
        ? { enabled: true, oauthclientCredentials: { secretName: ingress.iap.oauthSecretName } }
        : { enabled: false },
      logging: { enable: true, sampleRate: 1 },
    },
  };
}

/** The load balancer serves HTTPS when the spec names or creates a certificate. */
const servesHttps = (spec: FleetSpec): boolean => certificateNames(spec).length > 0;

/** The FrontendConfig redirecting HTTP to HTTPS: only when the load balancer serves HTTPS. */
function frontendConfigs(spec: FleetSpec): FrontendConfig[] {
  if (!servesHttps(spec)) return [];
  return [
    {
      apiVersion: 'networking.gke.io/v1beta1',
      kind: 'FrontendConfig',
      metadata: trafficMetadata(spec),
      spec: { redirectToHttps: { enabled: true, responseCodeName: 'MOVED_PERMANENTLY_DEFAULT' } },
    },
  ];
}

/** The MultiClusterIngress's annotations: the static address, and with HTTPS the certificates and FrontendConfig. */
function multiClusterIngressAnnotations(spec: FleetSpec): Record<string, string> {
  const { ingress } = spec;
  const annotations: Record<string, string> = {};
  // MCI takes the address itself, not the address name (see infra/network.tf).
  if (ingress.staticIp.address) annotations['networking.gke.io/static-ip'] = ingress.staticIp.address;
  if (servesHttps(spec)) {
    annotations['networking.gke.io/pre-shared-certs'] = certificateNames(spec).join(',');
    annotations['networking.gke.io/frontend-config'] = spec.app.name;
  }
  return annotations;
}

/** The MultiClusterIngress: the global VIP, one rule per domain (or a default backend), to the MultiClusterService. */
function multiClusterIngress(spec: FleetSpec): MultiClusterIngress {
  const { ingress } = spec;
  const annotations = multiClusterIngressAnnotations(spec);
  const backend = { serviceName: spec.app.name, servicePort: spec.app.port };
  return {
    apiVersion: 'networking.gke.io/v1',
    kind: 'MultiClusterIngress',
    metadata: { ...trafficMetadata(spec), ...(Object.keys(annotations).length ? { annotations } : {}) },
    spec: {
      template: {
        spec: ingress.domains.length
          ? { backend, rules: ingress.domains.map((host) => ({ host, http: { paths: [{ path: '/*', backend }] } })) }
          : { backend },
      },
    },
  };
}

/**
 * No MultiClusterIngress until the reserved address is pinned: created without it, MCI would take
 * an ephemeral VIP, and the URL would change when the address arrives. `region-scout pin` (run by
 * the infra workflow after `terraform apply`) adds it; validate says so meanwhile.
 */
const addressPending = (spec: FleetSpec): boolean => !spec.ingress.staticIp.disabled && !spec.ingress.staticIp.address;

/**
 * Multi Cluster Ingress. MCI/MCS are read only in the fleet's config membership
 * (https://cloud.google.com/kubernetes-engine/docs/concepts/multi-cluster-ingress). Google now calls
 * MCI the previous API and recommends multi-cluster Gateway; a Gateway layer can be added beside
 * this one behind the same TrafficLayer interface.
 */
export const multiClusterIngressLayer: TrafficLayer = {
  api: 'multi-cluster-ingress',
  objects(spec) {
    return [
      namespace(spec),
      multiClusterService(spec),
      backendConfig(spec),
      ...frontendConfigs(spec),
      ...(addressPending(spec) ? [] : [multiClusterIngress(spec)]),
    ];
  },
};

const LAYERS: Record<FleetSpec['ingress']['api'], TrafficLayer> = { 'multi-cluster-ingress': multiClusterIngressLayer };

export const trafficLayer = (spec: FleetSpec): TrafficLayer => LAYERS[spec.ingress.api];
