import type { LimitRange, Namespace, ResourceQuota } from 'kubernetes-types/core/v1';
import type { Role, RoleBinding } from 'kubernetes-types/rbac/v1';
import type { FleetSpec } from '@gpu-fleet/fleet-spec';
import { scoutRole } from './rbac';
import { commonLabels } from '../labels';
import { GPU_RESOURCE } from './workload';

const probeLabels = (spec: FleetSpec) => ({ ...commonLabels(spec), 'app.kubernetes.io/component': 'gpu-probe' });

/**
 * The sandbox for region-scout's short-lived GPU probe Jobs, identical in every cluster: a namespace
 * whose ResourceQuota caps GPUs (a runaway sweep cannot buy a fleet of GPUs), a LimitRange giving
 * probe containers small defaults, and RBAC limited to Jobs, Pods, pod logs and Events there
 * (bound to the scout's Google identity, see scoutRole).
 */
export function probeResources(spec: FleetSpec): [Namespace, ResourceQuota, LimitRange, Role, RoleBinding] {
  const ns = spec.scout.probeNamespace;
  const labels = probeLabels(spec);
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels } },
    {
      apiVersion: 'v1',
      kind: 'ResourceQuota',
      metadata: { name: 'gpu-probes', namespace: ns, labels },
      spec: {
        // Only the requests. prefix: Kubernetes refuses limits. on an extended resource
        // (https://kubernetes.io/docs/concepts/policy/resource-quotas/#resource-quota-for-extended-resources).
        hard: {
          [`requests.${GPU_RESOURCE}`]: String(spec.scout.probeMaxGpus),
          'count/jobs.batch': '10',
          pods: '10',
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'LimitRange',
      metadata: { name: 'gpu-probes', namespace: ns, labels },
      spec: {
        limits: [
          {
            type: 'Container',
            defaultRequest: { cpu: '500m', memory: '1Gi', 'ephemeral-storage': '1Gi' },
            default: { cpu: '500m', memory: '1Gi', 'ephemeral-storage': '1Gi' },
          },
        ],
      },
    },
    ...scoutRole(spec, {
      name: 'region-scout-prober',
      namespace: ns,
      labels,
      rules: [
        {
          apiGroups: ['batch'],
          resources: ['jobs'],
          verbs: ['create', 'get', 'list', 'watch', 'delete', 'deletecollection'],
        },
        { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'delete', 'deletecollection'] },
        { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
        { apiGroups: [''], resources: ['events'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['get', 'list', 'watch'] },
      ],
    }),
  ];
}
