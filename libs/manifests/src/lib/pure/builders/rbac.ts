import type { PolicyRule, Role, RoleBinding } from 'kubernetes-types/rbac/v1';
import { scoutServiceAccount, type FleetSpec } from '@gpu-fleet/fleet-spec';

/**
 * A namespaced Role and the RoleBinding granting it to region-scout. The scout reaches clusters
 * through Connect Gateway, which authenticates it as its Google identity, so the subject is that
 * service account's email
 * (https://cloud.google.com/kubernetes-engine/enterprise/multicluster-management/gateway/setup#configure_role-based_access_control_rbac_policies).
 */
export function scoutRole(
  spec: FleetSpec,
  options: { name: string; namespace: string; labels: Record<string, string>; rules: PolicyRule[] },
): [Role, RoleBinding] {
  const metadata = () => ({ name: options.name, namespace: options.namespace, labels: options.labels });
  return [
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: metadata(), rules: options.rules },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: metadata(),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: options.name },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: scoutServiceAccount(spec) }],
    },
  ];
}
