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

/** monitoring.googleapis.com/v1 PodMonitoring (Managed Service for Prometheus, managed collection). */
export type PodMonitoring = Resource<
  'monitoring.googleapis.com/v1',
  'PodMonitoring',
  {
    selector: { matchLabels: Record<string, string> };
    endpoints: Array<{ port: number | string; path?: string; interval?: string }>;
  }
>;

/** configsync.gke.io/v1beta1 RootSync with a Helm source (fields from the vendored CRD schema). */
export type RootSync = Resource<
  'configsync.gke.io/v1beta1',
  'RootSync',
  {
    sourceFormat: 'unstructured' | 'hierarchy';
    sourceType: 'helm';
    helm: {
      repo: string;
      chart: string;
      version: string;
      releaseName: string;
      namespace: string;
      auth: 'none';
      values: Record<string, unknown>;
    };
  }
>;

/** keda.sh/v1alpha1 ClusterTriggerAuthentication (vendored KEDA CRD schema). */
export type ClusterTriggerAuthentication = Resource<
  'keda.sh/v1alpha1',
  'ClusterTriggerAuthentication',
  { podIdentity: { provider: 'gcp' } }
>;

export interface ScaledObjectTrigger {
  type: 'prometheus';
  name: string;
  metadata: Record<string, string>;
  authenticationRef: { kind: 'ClusterTriggerAuthentication'; name: string };
}

/** keda.sh/v1alpha1 ScaledObject (vendored KEDA CRD schema). */
export type ScaledObject = Resource<
  'keda.sh/v1alpha1',
  'ScaledObject',
  {
    scaleTargetRef: { apiVersion: string; kind: string; name: string };
    pollingInterval: number;
    cooldownPeriod: number;
    minReplicaCount: number;
    maxReplicaCount: number;
    advanced: {
      horizontalPodAutoscalerConfig: {
        behavior: {
          scaleDown: {
            stabilizationWindowSeconds: number;
            policies: Array<{ type: 'Pods'; value: number; periodSeconds: number }>;
          };
        };
      };
    };
    triggers: ScaledObjectTrigger[];
  }
>;
