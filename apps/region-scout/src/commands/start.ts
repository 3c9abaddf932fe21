import { builtObjectCount, renderTree, writeTree, clusterGpuOrder } from '@gpu-fleet/manifests';
import { table } from '../table';
import { appNamespace, renderedReplicas, type FleetSpec } from '@gpu-fleet/fleet-spec';
import { EXIT } from '../errors';
import { readSpec, type Io, type Workspace } from '../context';
import { describeDrift } from './render';
import { formatFinding, runValidation } from './validate';

/**
 * The main job on the embedded default. Until the scout's sweep exists: render the example fleet,
 * validate it with the real kustomize and schemas, and print what it would serve.
 */
export async function start(ws: Workspace, io: Io): Promise<number> {
  const t0 = performance.now();
  const spec = readSpec(ws);
  io.out(`gpu-fleet · project ${spec.project} · spec ${ws.specLabel}`);
  const tree = renderTree(spec, ws.catalog);
  const drift = writeTree(ws.root, tree);
  io.out(describeDrift(drift, tree.files.size));
  const report = await runValidation(ws, spec);
  const objects = builtObjectCount(report);
  io.out('');
  for (const line of summaryTable(spec, ws)) io.out(line);
  io.out('');
  io.out(`Global URL: ${globalUrl(spec)}`);
  if (report.findings.length) {
    io.out(`validate: ${report.findings.length} problem(s):`);
    for (const f of report.findings) io.out(`  ${formatFinding(f)}`);
    return EXIT.checkFailed;
  }
  io.out(`validate: ${report.built.size} folders built with kustomize, ${objects} objects pass the schemas and fleet invariants (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  return EXIT.ok;
}

export function summaryTable(spec: FleetSpec, ws: Workspace): string[] {
  const rows = [...spec.clusters]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((c) => [
      c.name,
      c.region,
      c.mode,
      (spec.gpu.selection === 'compute-class' ? clusterGpuOrder(spec, c, ws.catalog) : [c.gpu]).join(' > '),
      String(renderedReplicas(c)),
      c.mode === 'active' ? 'yes' : 'no',
      `clusters/${c.name}/`,
    ]);
  const active = spec.clusters.filter((c) => c.mode === 'active').length;
  return [
    `${spec.clusters.length} clusters: ${active} active (min ${spec.placement.minServingRegions}, max ${spec.placement.maxServingRegions}), app ${spec.app.name} in namespace ${appNamespace(spec)}`,
    ...table(['CLUSTER', 'REGION', 'MODE', 'GPU (in-region order)', 'PODS', 'SERVING', 'CONFIG SYNC DIR'], rows),
  ];
}

export function globalUrl(spec: FleetSpec): string {
  const https = spec.ingress.preSharedCertificates.length > 0;
  const host = spec.ingress.domains[0] ?? spec.ingress.staticIp.address ?? '(ephemeral IP assigned by the load balancer)';
  const via = spec.ingress.staticIp.address ? ` (anycast ${spec.ingress.staticIp.address}${spec.ingress.iap.enabled ? ', IAP' : ''})` : '';
  return `${https ? 'https' : 'http'}://${host}/${via}`;
}
