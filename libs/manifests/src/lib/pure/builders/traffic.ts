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

/**
 * Multi Cluster Ingress. MCI/MCS are read only in the fleet's config membership
 * (https://cloud.google.com/kubernetes-engine/docs/concepts/multi-cluster-ingress). Google now calls
 * MCI the previous API and recommends multi-cluster Gateway; a Gateway layer can be added beside
 * this one behind the same TrafficLayer interface.
 */
export const multiClusterIngressLayer: TrafficLayer = {
  api: 'multi-cluster-ingress',
  objects(spec) {
    const ns = appNamespace(spec);
    const name = spec.app.name;
    const labels = commonLabels(spec);
    const { ingress } = spec;
    const https = certificateNames(spec).length > 0;

    // Backends restricted to the active clusters: draining/standby clusters get no traffic.
    // Links are "<location>/<cluster>" (https://cloud.google.com/kubernetes-engine/docs/how-to/multi-cluster-ingress#cluster_selection).
    const mcs: MultiClusterService = {
      apiVersion: 'networking.gke.io/v1',
      kind: 'MultiClusterService',
      metadata: {
        name,
        namespace: ns,
        labels,
        annotations: {
          'cloud.google.com/backend-config': JSON.stringify({ ports: { [String(spec.app.port)]: name } }),
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

    // Failover time ≈ checkIntervalSec × unhealthyThreshold; timeoutSec covers a long generation and
    // draining covers timeoutSec, so a removed backend finishes what it started.
    // The health check asks the readiness signal itself (the ready gate's port and path): a set
    // `port` makes the check use that fixed port on each endpoint, not the serving port
    // (kubernetes/ingress-gce pkg/translator/healthchecks.go: Port → PortSpecification USE_FIXED_PORT).
    const ready = readinessEndpoint(spec);
    const backendConfig: BackendConfig = {
      apiVersion: 'cloud.google.com/v1',
      kind: 'BackendConfig',
      metadata: { name, namespace: ns, labels },
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

    const frontendConfig: FrontendConfig | undefined = https
      ? {
          apiVersion: 'networking.gke.io/v1beta1',
          kind: 'FrontendConfig',
          metadata: { name, namespace: ns, labels },
          spec: { redirectToHttps: { enabled: true, responseCodeName: 'MOVED_PERMANENTLY_DEFAULT' } },
        }
      : undefined;

    const annotations: Record<string, string> = {};
    // MCI takes the address itself, not the address name (see infra/network.tf).
    if (ingress.staticIp.address) annotations['networking.gke.io/static-ip'] = ingress.staticIp.address;
    if (https) {
      annotations['networking.gke.io/pre-shared-certs'] = certificateNames(spec).join(',');
      annotations['networking.gke.io/frontend-config'] = name;
    }
    const backend = { serviceName: name, servicePort: spec.app.port };
    const mci: MultiClusterIngress = {
      apiVersion: 'networking.gke.io/v1',
      kind: 'MultiClusterIngress',
      metadata: { name, namespace: ns, labels, ...(Object.keys(annotations).length ? { annotations } : {}) },
      spec: {
        template: {
          spec: ingress.domains.length
            ? { backend, rules: ingress.domains.map((host) => ({ host, http: { paths: [{ path: '/*', backend }] } })) }
            : { backend },
        },
      },
    };
    // No MultiClusterIngress until the reserved address is pinned: created without it, MCI would take
    // an ephemeral VIP, and the URL would change when the address arrives. `region-scout pin` (run by
    // the infra workflow after `terraform apply`) adds it; validate says so meanwhile.
    const addressPending = !ingress.staticIp.disabled && !ingress.staticIp.address;
    return [
      namespace(spec),
      mcs,
      backendConfig,
      ...(frontendConfig ? [frontendConfig] : []),
      ...(addressPending ? [] : [mci]),
    ];
  },
};

const LAYERS: Record<FleetSpec['ingress']['api'], TrafficLayer> = { 'multi-cluster-ingress': multiClusterIngressLayer };

export const trafficLayer = (spec: FleetSpec): TrafficLayer => LAYERS[spec.ingress.api];
