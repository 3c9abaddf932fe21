import type { PathSegment } from '../issues';
import { show } from '../issues';
import { cronIntervalMinutes } from '../derived';
import type { SemanticContext } from './context';

/** scout, infra and the config cluster: probes fit their quota, the CronJob has an image, GitHub ids for WIF, images the nodes can pull, a config cluster of its own. */
export function checkScoutAndInfra(ctx: SemanticContext): void {
  const { add, raw, app, gpu, scout, infra, configSync, configCluster, names, checkRegion, monitoring } = ctx;
  // The alerts' windows are made of the sweep interval (fleet-config/monitoring/alert-policies.yaml):
  // "no successful sweep for 3 intervals" needs one.
  if (scout && monitoring?.alerts && cronIntervalMinutes(scout.schedule.cron) === null) {
    add(
      ['scout', 'schedule', 'cron'],
      `${show(scout.schedule.cron)} is not a fixed interval, which the alerts are measured in: use "*/N * * * *" (every N minutes), "M * * * *" (hourly) or "M */N * * *" (every N hours), or set monitoring.alerts to false`,
    );
  }
  const seen = new Set<string>();
  for (const [i, ch] of (monitoring?.notificationChannels ?? []).entries()) {
    const key = 'email' in ch ? ch.email.toLowerCase() : ch.id;
    if (seen.has(key))
      add(['monitoring', 'notificationChannels', i], `${show(key)} is listed twice; remove the repeat`);
    seen.add(key);
  }
  if (scout && gpu && scout.probesPerSweep > 0 && scout.probeMaxGpus < gpu.count) {
    // The probe namespace's ResourceQuota (requests.nvidia.com/gpu = probeMaxGpus) would refuse every probe pod.
    add(
      ['scout', 'probeMaxGpus'],
      `${scout.probeMaxGpus} cannot hold one probe of gpu.count ${gpu.count} GPU(s): the probe namespace's ResourceQuota would refuse every probe pod; raise it to at least ${gpu.count}, or set scout.probesPerSweep to 0`,
    );
  }
  if (scout && scout.evidenceStore.kind === 'gcs' && !scout.evidenceStore.bucket) {
    add(
      ['scout', 'evidenceStore', 'bucket'],
      `is required with kind "gcs": name the bucket infra/ creates for the evidence (for example "${typeof raw.project === 'string' ? raw.project : 'my-project'}-scout-evidence"), or use kind "configmap"`,
    );
  }
  if (scout && scout.evidenceStore.kind === 'configmap' && scout.evidenceStore.bucket) {
    add(
      ['scout', 'evidenceStore', 'bucket'],
      `${show(scout.evidenceStore.bucket)} is set but kind is "configmap", which keeps the evidence in scout.evidenceConfigMap; set kind "gcs" or remove bucket`,
    );
  }
  if (scout && scout.schedule.runner === 'config-cluster' && !scout.image) {
    add(
      ['scout', 'image'],
      `is required when scout.schedule.runner is "config-cluster" (the CronJob runs it); build the image and run \`region-scout pin --scout-image <ref@sha256:…>\`, or use runner "github-actions"`,
    );
  }
  if (infra && configSync && /github\.com[/:]/.test(configSync.repo)) {
    const gha = infra.githubActions;
    if (!gha.repositoryId)
      add(
        ['infra', 'githubActions', 'repositoryId'],
        `is required for a repository on GitHub: the workflows' Workload Identity Federation trusts it by numeric id; set it to the output of \`gh api repos/<owner>/<repo> --jq .id\``,
      );
    if (!gha.repositoryOwnerId)
      add(
        ['infra', 'githubActions', 'repositoryOwnerId'],
        `is required for a repository on GitHub: set it to the output of \`gh api repos/<owner>/<repo> --jq .owner.id\``,
      );
  }
  // The nodes may pull only from the repository infra/ creates (gpu-fleet-nodes holds
  // roles/artifactregistry.reader on it alone, infra/iam.tf): an image elsewhere in this project's
  // Artifact Registry would fail with ImagePullBackOff after a successful deploy.
  // Image paths are LOCATION-docker.pkg.dev/PROJECT/REPOSITORY/IMAGE
  // (https://cloud.google.com/artifact-registry/docs/docker/names).
  if (infra && typeof raw.project === 'string') {
    const { location, repository } = infra.artifactRegistry;
    const images: Array<[PathSegment[], string | undefined]> = [
      [['app', 'image'], app?.image],
      [['scout', 'image'], scout?.image],
      [['scout', 'probeImage'], scout?.probeImage],
    ];
    for (const [path, image] of images) {
      const m = image ? /^([a-z0-9-]+)-docker\.pkg\.dev\/([^/]+)\/([^/]+)\/(.+)$/.exec(image) : null;
      if (!m || m[2] !== raw.project || (m[1] === location && m[3] === repository)) continue;
      add(
        path,
        `${show(image!)} is in Artifact Registry repository ${show(`${m[1]}/${m[3]}`)} of this project, but infra/ creates and lets the nodes pull from ${show(`${location}/${repository}`)} only; push the image to ${location}-docker.pkg.dev/${raw.project}/${repository}/${m[4]}, or set infra.artifactRegistry to the repository it is in`,
      );
    }
  }
  if (configCluster) {
    if (names.has(configCluster.name)) {
      add(
        ['configCluster', 'name'],
        `${show(configCluster.name)} is also the name of clusters[${names.get(configCluster.name)}]; the config cluster needs its own name (membership names are unique in a fleet)`,
      );
    }
    if (configCluster.region) checkRegion(['configCluster', 'region'], configCluster.region);
  }
}
