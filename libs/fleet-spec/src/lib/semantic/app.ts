import {
  AUTOPILOT_EPHEMERAL_STORAGE_MAX_GIB,
  GCSFUSE_SIDECAR_AUTOPILOT_GPU_MAX,
  webuiPathAnswersBeforeModelLoad,
} from '@gpu-fleet/gcp-catalog';
import { show } from '../issues';
import type { SemanticContext } from './context';
import { cpuQuantity, memoryGiB, podRequestParts, round } from './quantities';

/** app: a pinned image, its port, readiness that means "can generate", and the Pod's totals within what Autopilot accepts. */
export function checkApp(ctx: SemanticContext): void {
  const { add, catalog, app, gpu, validPrefs } = ctx;
  if (app) {
    const ref = app.image.split('@')[0]!;
    const tag = ref.includes(':', ref.lastIndexOf('/')) ? ref.slice(ref.lastIndexOf(':') + 1) : undefined;
    if (!app.image.includes('@sha256:') && (!tag || tag === 'latest')) {
      add(
        ['app', 'image'],
        `${show(app.image)} is not pinned; use a version tag (":v1.10.1") or better a digest ("@sha256:…")`,
      );
    }
    const portArg = app.args.map((a) => /^--port[= ](\d+)$/.exec(a)).find(Boolean);
    if (portArg && Number(portArg[1]) !== app.port) {
      add(['app', 'port'], `${app.port} differs from the WebUI argument "${portArg[0]}"; make them equal`);
    }
    // Readiness means "a generation can run" (app.probes.readiness).
    const r = app.probes.readiness;
    if (r.mode === 'http-path' && webuiPathAnswersBeforeModelLoad(r.path)) {
      add(
        ['app', 'probes', 'readiness', 'path'],
        `${show(r.path)} answers while the model is still loading (the WebUI loads it in a background thread after its API is up: modules/initialize.py), so new pods would take traffic they cannot serve; use mode "generation" (the ready gate), or a path your image serves only once it can generate`,
      );
    }
    if (r.mode === 'generation' && r.port === app.port) {
      add(
        ['app', 'probes', 'readiness', 'port'],
        `${r.port} is also app.port; the ready gate needs a port of its own, such as 7861`,
      );
    }
    if (r.mode === 'generation' && !app.args.includes('--api')) {
      add(
        ['app', 'args'],
        `the ready gate runs one generation through the WebUI API, which needs "--api"; add it, or set app.probes.readiness.mode "http-path" with a path your image serves once it can generate`,
      );
    }
    // --api-auth puts HTTP Basic auth on every API route (modules/api/api.py: each route depends on
    // auth when cmd_opts.api_auth is set), including /sdapi/v1/txt2img and /sdapi/v1/progress that
    // the ready gate and the drain call without credentials: no pod would ever become Ready.
    const apiAuth = app.args.find((a) => a === '--api-auth' || a.startsWith('--api-auth='));
    if (apiAuth && r.mode === 'generation') {
      add(
        ['app', 'args'],
        `${show(apiAuth.replace(/=.*$/, '=…'))} puts a password on every WebUI API route, including the txt2img and progress calls the ready gate makes without credentials, so no pod would ever become Ready; remove it and protect the URL with Identity-Aware Proxy (ingress.iap), or set app.probes.readiness.mode "http-path" with a path your image serves once it can generate`,
      );
    }
    if (app.checkpointHashing && app.args.includes('--no-hashing')) {
      add(
        ['app', 'checkpointHashing'],
        `true while app.args has "--no-hashing", which turns hashing off; remove one of the two`,
      );
    }
    // The FUSE sidecar on an Autopilot GPU node gets no more than 2 vCPU / 14 GiB (a known issue in
    // GoogleCloudPlatform/gcs-fuse-csi-driver docs/troubleshooting.md): more is not granted.
    const sidecar = app.modelStorage?.sidecar;
    if (sidecar && cpuQuantity(sidecar.cpu) > GCSFUSE_SIDECAR_AUTOPILOT_GPU_MAX.cpu) {
      add(
        ['app', 'modelStorage', 'sidecar', 'cpu'],
        `${show(sidecar.cpu)} is more than the ${GCSFUSE_SIDECAR_AUTOPILOT_GPU_MAX.cpu} vCPU the Cloud Storage FUSE sidecar can have on an Autopilot GPU node (gcs-fuse-csi-driver troubleshooting guide, known issue); use "${GCSFUSE_SIDECAR_AUTOPILOT_GPU_MAX.cpu}" or less`,
      );
    }
    if (sidecar && memoryGiB(sidecar.memory) > GCSFUSE_SIDECAR_AUTOPILOT_GPU_MAX.memoryGiB) {
      add(
        ['app', 'modelStorage', 'sidecar', 'memory'],
        `${show(sidecar.memory)} is more than the ${GCSFUSE_SIDECAR_AUTOPILOT_GPU_MAX.memoryGiB} GiB the Cloud Storage FUSE sidecar can have on an Autopilot GPU node (gcs-fuse-csi-driver troubleshooting guide, known issue); use "${GCSFUSE_SIDECAR_AUTOPILOT_GPU_MAX.memoryGiB}Gi" or less`,
      );
    }
    // What Autopilot checks: the Pod's totals, sidecars included, against the GPU type's maxima.
    const parts = podRequestParts(app);
    const sum = (k: 'cpu' | 'memoryGiB' | 'ephemeralGiB') => parts.reduce((n, p) => n + p[k], 0);
    const listed = (k: 'cpu' | 'memoryGiB' | 'ephemeralGiB', unit: string) =>
      parts.map((p) => `${p.name} ${round(p[k])}${unit}`).join(' + ');
    if (sum('ephemeralGiB') > AUTOPILOT_EPHEMERAL_STORAGE_MAX_GIB) {
      add(
        ['app', 'resources', 'ephemeralStorage'],
        `the Pod requests ${round(sum('ephemeralGiB'))} GiB of ephemeral storage (${listed('ephemeralGiB', ' GiB')}), more than the ${AUTOPILOT_EPHEMERAL_STORAGE_MAX_GIB} GiB Autopilot allows for all containers of a Pod; lower app.resources.ephemeralStorage${app.modelStorage ? ' or app.modelStorage.sidecar.ephemeralStorage' : ''}`,
      );
    }
    if (gpu) {
      for (const t of validPrefs) {
        const b = catalog.autopilotBounds(t, gpu.count);
        if (!b) continue;
        if (sum('cpu') > b.maxCpu)
          add(
            ['app', 'resources', 'cpu'],
            `the Pod requests ${round(sum('cpu'))} vCPU (${listed('cpu', '')}), more than Autopilot accepts with ${gpu.count} × ${t} (at most ${b.maxCpu} vCPU, ${b.provenance}); lower app.resources.cpu`,
          );
        if (sum('memoryGiB') > b.maxMemoryGiB)
          add(
            ['app', 'resources', 'memory'],
            `the Pod requests ${round(sum('memoryGiB'))} GiB of memory (${listed('memoryGiB', ' GiB')}), more than Autopilot accepts with ${gpu.count} × ${t} (at most ${b.maxMemoryGiB} GiB, ${b.provenance}); lower app.resources.memory`,
          );
      }
    }
  }
}
