import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { SCOUT_UID } from '@gpu-fleet/manifests';

/**
 * The image cannot be built here (no Docker engine), so its Dockerfile is checked for what the
 * CronJob relies on: multi-stage, nothing but the bundle and kubectl at run time, non-root with the
 * CronJob's uid, the CLI as entrypoint, and a build command that exists.
 */
const ROOT = join(__dirname, '../..');
const dockerfile = readFileSync(join(ROOT, 'apps/region-scout/Dockerfile'), 'utf8');
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));
const stages = instructions.reduce<string[][]>(
  (acc, l) => (l.startsWith('FROM ') ? [...acc, [l]] : (acc.at(-1)?.push(l), acc)),
  [],
);

describe('apps/region-scout/Dockerfile', () => {
  it('is multi-stage and ends on a distroless (shell-less) Node image', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(stages.at(-1)![0]).toMatch(/^FROM gcr\.io\/distroless\/nodejs24-debian12:nonroot$/);
    // build and runtime on the same maintained Node LTS
    expect(dockerfile).toMatch(/^ARG NODE_VERSION=24$/m);
  });

  it('runtime stage copies only the bundle, the schemas and kubectl; installs nothing', () => {
    const runtime = stages.at(-1)!;
    expect(runtime.filter((l) => l.startsWith('RUN '))).toEqual([]);
    expect(runtime.filter((l) => l.startsWith('COPY '))).toEqual([
      'COPY --from=build /src/dist/apps/region-scout/ /app/',
      'COPY --from=kubectl /kubectl /usr/local/bin/kubectl',
    ]);
  });

  it('runs as the non-root uid the CronJob expects, with the CLI as entrypoint', () => {
    const runtime = stages.at(-1)!;
    expect(runtime).toContain(`USER ${SCOUT_UID}:${SCOUT_UID}`);
    expect(runtime).toContain('ENTRYPOINT ["/nodejs/bin/node", "/app/main.js"]');
  });

  it('builds with the workspace build target that exists and bundles to the path it copies', () => {
    expect(dockerfile).toContain('RUN npx nx run region-scout:build');
    const project = JSON.parse(readFileSync(join(ROOT, 'apps/region-scout/project.json'), 'utf8')) as {
      targets: { build: { options: { commands: string[] } } };
    };
    expect(project.targets.build.options.commands.join('\n')).toContain('--outfile=dist/apps/region-scout/main.js');
    // Every file the build stage copies exists.
    const copied = instructions
      .filter((l) => /^COPY (?!--from)/.test(l))
      .flatMap((l) => l.slice(5).split(/\s+/).slice(0, -1));
    expect(copied.length).toBeGreaterThan(5);
    expect(copied.filter((f) => !existsSync(join(ROOT, f)))).toEqual([]);
  });

  it('kubectl is checksum-verified; the Cloud Build config builds this Dockerfile as the build identity infra/ creates', () => {
    expect(dockerfile).toMatch(/kubectl\.sha256.*sha256sum -c/);
    const cloudbuild = parse(readFileSync(join(ROOT, 'apps/region-scout/cloudbuild.yaml'), 'utf8')) as {
      steps: Array<{ args: string[] }>;
      serviceAccount: string;
      options: Record<string, string>;
    };
    expect(cloudbuild.steps[0]!.args).toEqual(expect.arrayContaining(['-f', 'apps/region-scout/Dockerfile']));
    // the account infra/iam.tf creates and grants (Artifact Registry writer, logs writer); a build
    // with its own account must log to Cloud Logging
    const account = /resource "google_service_account" "build" \{[^}]*account_id\s*=\s*"([^"]+)"/.exec(
      readFileSync(join(ROOT, 'infra/iam.tf'), 'utf8'),
    )![1];
    expect(cloudbuild.serviceAccount).toBe(
      `projects/$PROJECT_ID/serviceAccounts/${account}@$PROJECT_ID.iam.gserviceaccount.com`,
    );
    expect(cloudbuild.options.logging).toBe('CLOUD_LOGGING_ONLY');
  });
});

describe('tools/webui-image (the WebUI image app.image names)', () => {
  const text = readFileSync(join(ROOT, 'tools/webui-image/Dockerfile'), 'utf8');
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const spec = parse(readFileSync(join(ROOT, 'fleet-config/fleet.yaml'), 'utf8')) as {
    app: { image: string; port?: number; args?: string[] };
  };

  it('builds the WebUI release app.image is tagged with', () => {
    const version = /^ARG WEBUI_VERSION=(\S+)$/m.exec(text)![1];
    expect(
      lines.some(
        (l) =>
          l.includes('git clone') &&
          l.includes('--branch "${WEBUI_VERSION}"') &&
          l.includes('AUTOMATIC1111/stable-diffusion-webui'),
      ),
    ).toBe(true);
    const tag = /:([^:/@]+)$/.exec(spec.app.image)?.[1];
    if (tag) expect(tag).toBe(version);
  });

  it('installs everything at build time and nothing at start', () => {
    expect(lines).toContain('RUN python launch.py --skip-torch-cuda-test --xformers --exit');
    const entry = JSON.parse(lines.find((l) => l.startsWith('ENTRYPOINT '))!.slice('ENTRYPOINT '.length)) as string[];
    expect(entry).toEqual(['python', 'launch.py', '--skip-prepare-environment', '--no-download-sd-model']);
    // no CMD: the Deployment's args are appended to the entrypoint
    expect(lines.some((l) => l.startsWith('CMD '))).toBe(false);
  });

  it('runs as a non-root user and exposes the port the spec serves on', () => {
    const users = lines.filter((l) => l.startsWith('USER '));
    expect(users.at(-1)).toMatch(/^USER [1-9][0-9]*:[1-9][0-9]*$/);
    expect(lines).toContain(`EXPOSE ${spec.app.port ?? 7860}`);
  });

  it('the Cloud Build config builds it as the build identity, with room for torch', () => {
    const cb = parse(readFileSync(join(ROOT, 'tools/webui-image/cloudbuild.yaml'), 'utf8')) as {
      steps: Array<{ args: string[] }>;
      serviceAccount: string;
      timeout: string;
      options: Record<string, string | number>;
    };
    expect(cb.steps[0]!.args).toEqual(expect.arrayContaining(['-f', 'tools/webui-image/Dockerfile']));
    expect(cb.serviceAccount).toMatch(/serviceAccounts\/gpu-fleet-build@\$PROJECT_ID\.iam\.gserviceaccount\.com$/);
    expect(cb.options.logging).toBe('CLOUD_LOGGING_ONLY');
    // Cloud Build's default timeout is 60 minutes
    expect(Number(cb.timeout.replace(/s$/, ''))).toBeGreaterThan(3600);
  });
});
