/**
 * Typed shapes of the GKE custom resources gpu-fleet emits. Core Kubernetes types come from
 * kubernetes-types; these are written from the vendored CRD schemas (libs/manifests/schemas/crds)
 * and, for MultiClusterIngress/Service, from Google's documentation.
 */
import type { ObjectMeta } from 'kubernetes-types/meta/v1';

interface Resource<A extends string, K extends string, S> {
  apiVersion: A;
  kind: K;
  metadata: ObjectMeta;
  spec: S;
}

export interface ComputeClassPriority {
  gpu?: { type: string; count: number; driverVersion?: 'default' | 'latest' };
  spot?: boolean;
  machineFamily?: string;
}

/** cloud.google.com/v1 ComputeClass (https://cloud.google.com/kubernetes-engine/docs/concepts/about-custom-compute-classes). */
export type ComputeClass = Resource<
  'cloud.google.com/v1',
  'ComputeClass',
  {
    description?: string;
    priorities: ComputeClassPriority[];
    whenUnsatisfiable: 'ScaleUpAnyway' | 'DoNotScaleUp';
    nodePoolAutoCreation?: { enabled: boolean };
    activeMigration?: { optimizeRulePriority: boolean };
  }
>;

/** cloud.google.com/v1 BackendConfig (https://cloud.google.com/kubernetes-engine/docs/how-to/ingress-configuration). */
export type BackendConfig = Resource<
  'cloud.google.com/v1',
  'BackendConfig',
  {
    timeoutSec?: number;
    connectionDraining?: { drainingTimeoutSec: number };
    healthCheck?: {
      checkIntervalSec: number;
      timeoutSec: number;
      healthyThreshold: number;
      unhealthyThreshold: number;
      type: 'HTTP' | 'HTTPS' | 'HTTP2';
      requestPath: string;
      port: number;
    };
    sessionAffinity?: { affinityType: 'GENERATED_COOKIE' | 'CLIENT_IP' | 'NONE'; affinityCookieTtlSec?: number };
    iap?: { enabled: boolean; oauthclientCredentials?: { secretName: string } };
    logging?: { enable: boolean; sampleRate?: number };
  }
>;

/** networking.gke.io/v1beta1 FrontendConfig. */
export type FrontendConfig = Resource<
  'networking.gke.io/v1beta1',
  'FrontendConfig',
  { redirectToHttps?: { enabled: boolean; responseCodeName?: string }; sslPolicy?: string }
>;

export interface MciBackend {
  serviceName: string;
  servicePort: number;
}

/** networking.gke.io/v1 MultiClusterIngress. */
export type MultiClusterIngress = Resource<
  'networking.gke.io/v1',
  'MultiClusterIngress',
  {
    template: {
      spec: {
        backend?: MciBackend;
        rules?: Array<{ host?: string; http: { paths: Array<{ path?: string; backend: MciBackend }> } }>;
      };
    };
  }
>;

/** networking.gke.io/v1 MultiClusterService. */
export type MultiClusterService = Resource<
  'networking.gke.io/v1',
  'MultiClusterService',
  {
    template: {
      spec: {
        selector: Record<string, string>;
        ports: Array<{ name: string; protocol: 'TCP'; port: number; targetPort: number }>;
      };
    };
    clusters?: Array<{ link: string }>;
  }
>;
