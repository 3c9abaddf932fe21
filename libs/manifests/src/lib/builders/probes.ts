import type { LimitRange, Namespace, ResourceQuota } from 'kubernetes-types/core/v1';
import type { Role, RoleBinding } from 'kubernetes-types/rbac/v1';
import { scoutServiceAccount, type FleetSpec } from '@gpu-fleet/fleet-spec';
import { commonLabels } from '../labels';
import { GPU_RESOURCE } from './workload';

const probeLabels = (spec: FleetSpec) => ({ ...commonLabels(spec), 'app.kubernetes.io/component': 'gpu-probe' });

/**
 * The sandbox for region-scout's short-lived GPU probe Jobs, identical in every cluster: a namespace
 * whose ResourceQuota caps GPUs (a runaway sweep cannot buy a fleet of GPUs), a LimitRange giving
 * probe containers small defaults, and RBAC limited to Jobs, Pods, pod logs and Events there.
 * The scout reaches clusters through Connect Gateway, which authenticates it as its Google
 * identity, so the RoleBinding subject is that service account's email
 * (https://cloud.google.com/kubernetes-engine/enterprise/multicluster-management/gateway/setup#configure_role-based_access_control_rbac_policies).
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
        hard: {
          [`requests.${GPU_RESOURCE}`]: String(spec.scout.probeMaxGpus),
          [`limits.${GPU_RESOURCE}`]: String(spec.scout.probeMaxGpus),
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
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'region-scout-prober', namespace: ns, labels },
      rules: [
        { apiGroups: ['batch'], resources: ['jobs'], verbs: ['create', 'get', 'list', 'watch', 'delete', 'deletecollection'] },
        { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'delete', 'deletecollection'] },
        { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
        { apiGroups: [''], resources: ['events'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['get', 'list', 'watch'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'region-scout-prober', namespace: ns, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'region-scout-prober' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: scoutServiceAccount(spec) }],
    },
  ];
}
