import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  EXAMPLE_FLEET_YAML,
  fleetJsonSchema,
  loadFleetSpec,
  managedCertificateName,
  scoutServiceAccount,
  type FleetSpec,
} from '@gpu-fleet/fleet-spec';
import { GpuCatalog } from '@gpu-fleet/gcp-catalog';
import {
  ALERT_POLICIES_DIR,
  DASHBOARD_FILE,
  MONITORING_DIR,
  SCOUT_NAME,
  SPEC_FILE,
  alertPolicies,
} from '@gpu-fleet/manifests';
import { parse } from '@cdktf/hcl2json';

/**
 * infra/ reads the spec with yamldecode; nothing type-checks those reads. These tests tie the
 * Terraform to the zod schema, so renaming or removing a spec field, or changing a default, fails
 * here instead of in a `terraform plan` against a real project.
 */
const INFRA = join(__dirname, '../../infra');
const files = readdirSync(INFRA).filter((f) => f.endsWith('.tf'));
const hcl = files.map((f) => ({ file: f, text: readFileSync(join(INFRA, f), 'utf8') }));
// Comments may quote paths and values freely; only code counts.
const code = (text: string) => text.replace(/(^|\s)(#|\/\/).*$/gm, '$1');

type Schema = {
  type?: string | string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  default?: unknown;
  anyOf?: Schema[];
  $ref?: string;
};
const root = fleetJsonSchema() as Schema & { definitions?: Record<string, Schema>; $defs?: Record<string, Schema> };
const defs = { ...(root.definitions ?? {}), ...(root.$defs ?? {}) };
const deref = (s: Schema | undefined): Schema | undefined => {
  if (!s) return s;
  if (s.$ref) return deref(defs[s.$ref.split('/').pop()!]);
  if (s.anyOf) return deref(s.anyOf.find((x) => x.type !== 'null') ?? s.anyOf[0]);
  return s;
};

/** The schema node at a path like configSync.branch or placement.candidateRegions[0] (undefined if absent). */
function schemaAt(path: string, from: Schema = root): Schema | undefined {
  let node: Schema | undefined = deref(from);
  for (const part of path.split('.')) {
    const m = /^([A-Za-z$][\w$]*)((\[\d+\])*)$/.exec(part);
    if (!m || !node?.properties?.[m[1]!]) return undefined;
    node = deref(node.properties[m[1]!]);
    for (let i = 0; i < (m[2]!.match(/\[/g) ?? []).length; i++) node = deref(node?.items);
  }
  return node;
}

/** Every `local.spec.<path>` read, with the file it is in. */
const specReads = hcl.flatMap(({ file, text }) =>
  [...code(text).matchAll(/local\.spec\.([A-Za-z][\w]*(?:\.[A-Za-z][\w]*|\[\d+\])*)/g)].map((m) => ({
    file,
    path: m[1]!,
  })),
);

describe('infra/ reads only what the spec schema defines', () => {
  it('finds the Terraform and its spec reads (the test would be vacuous otherwise)', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'spec.tf',
        'clusters.tf',
        'fleet.tf',
        'iam.tf',
        'github.tf',
        'network.tf',
        'outputs.tf',
        'versions.tf',
      ]),
    );
    expect(specReads.length).toBeGreaterThan(25);
  });

  it('every local.spec.<path> exists in the zod schema', () => {
    const missing = specReads.filter((r) => !schemaAt(r.path)).map((r) => `${r.file}: local.spec.${r.path}`);
    expect(missing).toEqual([]);
  });

  it('every default in try(local.spec.<path>, <default>) equals the schema default', () => {
    const withDefaults = specReads.length
      ? hcl.flatMap(({ file, text }) =>
          [
            ...code(text).matchAll(
              /try\(local\.spec\.([\w.]+),\s*("(?:[^"\\]|\\.)*"|true|false|-?\d+(?:\.\d+)?|\[\])\)/g,
            ),
          ].map((m) => ({ file, path: m[1]!, hcl: JSON.parse(m[2]!) as unknown })),
        )
      : [];
    expect(withDefaults.length).toBeGreaterThan(10);
    // Defaults computed from other fields mirror libs/fleet-spec's derived helpers.
    const example = loadFleetSpec(EXAMPLE_FLEET_YAML).spec;
    const derived: Record<string, (s: FleetSpec) => string> = { 'scout.gcpServiceAccount': scoutServiceAccount };
    const expected = (d: { path: string; hcl: unknown }) =>
      typeof d.hcl === 'string' && d.hcl.includes('${')
        ? {
            hcl: d.hcl.replace('${local.project}', example.project),
            schema: derived[d.path]?.({ ...example, scout: { ...example.scout, gcpServiceAccount: undefined } }),
          }
        : { hcl: d.hcl, schema: schemaAt(d.path)?.default };
    const differing = withDefaults
      .map((d) => ({ ...d, ...expected(d) }))
      .filter((d) => JSON.stringify(d.hcl) !== JSON.stringify(d.schema))
      .map(
        (d) =>
          `${d.file}: try(local.spec.${d.path}, ${JSON.stringify(d.hcl)}) but the schema default is ${JSON.stringify(d.schema)}`,
      );
    expect(differing).toEqual([]);
  });

  it('reads only fields of a cluster entry from the spec clusters list', () => {
    const cluster = deref(schemaAt('clusters')!.items!)!;
    // for name, c in local.clusters : …c.region…  /  for c in local.spec.clusters : …
    const reads = hcl.flatMap(({ file, text }) =>
      [...code(text).matchAll(/for\s+(?:\w+\s*,\s*)?(\w+)\s+in\s+local\.(?:spec\.)?clusters\s*:([^}\]]*)/g)].flatMap(
        (m) => [...m[2]!.matchAll(new RegExp(`\\b${m[1]}\\.(\\w+)`, 'g'))].map((f) => ({ file, field: f[1]! })),
      ),
    );
    expect(reads.map((r) => r.field)).toEqual(expect.arrayContaining(['name', 'region']));
    expect(reads.filter((r) => !cluster.properties![r.field]).map((r) => `${r.file}: ${r.field}`)).toEqual([]);
  });

  it('holds no second list of regions: no region name is written into the Terraform', () => {
    const regions = GpuCatalog.bundled()
      .regions()
      .map((r) => r.region);
    const found = hcl.flatMap(({ file, text }) =>
      regions.filter((r) => new RegExp(`\\b${r}\\b`).test(code(text))).map((r) => `${file}: ${r}`),
    );
    expect(found).toEqual([]);
  });

  it('grants IAM additively only: *_iam_member, never *_iam_binding or *_iam_policy', () => {
    const all = hcl.map((h) => code(h.text)).join('\n');
    expect(all).toMatch(/resource "google_project_iam_member"/);
    expect(all).not.toMatch(/resource "google_\w+_iam_(binding|policy)"/);
  });

  it('pins every provider to an exact version and commits no state', () => {
    const versions = code(readFileSync(join(INFRA, 'versions.tf'), 'utf8'));
    const pins = [...versions.matchAll(/source\s*=\s*"[^"]+"\s*\n\s*version\s*=\s*"([^"]+)"/g)].map((m) => m[1]);
    expect(pins.length).toBeGreaterThan(0);
    for (const v of pins) expect(v).toMatch(/^\d+\.\d+\.\d+$/);
    expect(versions).toMatch(/backend "gcs"/);
    expect(readdirSync(INFRA).filter((f) => /\.tfstate/.test(f))).toEqual([]);
  });

  it('infra/README.md lists exactly the grants iam.tf makes, with who, what, on what and why', async () => {
    const parsed = (await parse('iam.tf', readFileSync(join(INFRA, 'iam.tf'), 'utf8'))) as {
      locals: Array<Record<string, unknown>>;
      resource: Record<string, Record<string, unknown>>;
    };
    const grants = parsed.locals.find((l) => l.grants)!.grants as Array<{
      who: string;
      role: string;
      on: string;
      why: string;
    }>;
    const fromTerraform = grants.map((g) => `${g.who} | \`${g.role}\` | ${g.on} | ${g.why}`);
    // the two grants outside the table: the conditioned IAM admin and the IAP users
    expect(Object.keys(parsed.resource.google_project_iam_member!).sort()).toEqual([
      'apply_iam_admin',
      'grants',
      'mci_agent',
      'nodes',
    ]);
    expect(Object.keys(parsed.resource.google_iap_web_iam_member!)).toEqual(['users']);
    fromTerraform.push('infra_apply | `roles/resourcemanager.projectIamAdmin` | project, with a condition');
    fromTerraform.push('`ingress.iap.members` | `roles/iap.httpsResourceAccessor` | iap');
    const readme = readFileSync(join(INFRA, 'README.md'), 'utf8');
    const section = readme.slice(
      readme.indexOf('## Identities and every grant'),
      readme.indexOf('## Order of operations'),
    );
    // cells trimmed: prettier pads Markdown tables
    const rows = [...section.matchAll(/^\|(.+)\|$/gm)]
      .map((m) => m[1]!.split('|').map((c) => c.trim()))
      .filter((cells) => cells[0] !== 'Who' && !/^-+$/.test(cells[0]!))
      .map((cells) => cells.join(' | '));
    expect(grants.length).toBeGreaterThan(25);
    // a documented row may only add its explanation to the last two (their why is in the README alone)
    expect(rows.map((r, i) => (i >= grants.length ? r.split(' | ').slice(0, 3).join(' | ') : r))).toEqual(
      fromTerraform,
    );
  });

  it('every grant names a known identity and scope, and the apply identity cannot grant Project IAM Admin', async () => {
    const parsed = (await parse('iam.tf', readFileSync(join(INFRA, 'iam.tf'), 'utf8'))) as {
      locals: Array<Record<string, unknown>>;
    };
    const members = Object.keys(parsed.locals.find((l) => l.members)!.members as object);
    const grants = parsed.locals.find((l) => l.grants)!.grants as Array<{ who: string; role: string; on: string }>;
    expect(grants.filter((g) => !members.includes(g.who)).map((g) => g.who)).toEqual([]);
    expect(
      grants
        .filter(
          (g) =>
            !/^(project|repository|bucket:(models|build_source|evidence|state)|sa:(scout|nodes|build|config_sync|keda|infra_plan|infra_apply))$/.test(
              g.on,
            ),
        )
        .map((g) => g.on),
    ).toEqual([]);
    expect(grants.map((g) => g.role)).not.toContain('roles/resourcemanager.projectIamAdmin');
    expect(grants.filter((g) => g.role === 'roles/storage.admin').map((g) => g.on)).toEqual([
      'bucket:models',
      'bucket:build_source',
      'bucket:evidence',
    ]);
    expect(grants.filter((g) => g.who === 'infra_plan' && g.on === 'bucket:state').map((g) => g.role)).toEqual([
      'roles/storage.objectViewer',
    ]);
  });

  it('binds Workload Identity to the Kubernetes ServiceAccount the CronJob is rendered with', () => {
    const iam = code(readFileSync(join(INFRA, 'iam.tf'), 'utf8'));
    const ksa = /serviceAccount:\$\{local\.workload_pool\}\[\$\{local\.scout_namespace\}\/([\w-]+)\]/.exec(iam);
    expect(ksa?.[1]).toBe(SCOUT_NAME);
  });

  describe('the first deploy and later changes (issue 25)', () => {
    type Parsed = {
      locals: Array<Record<string, unknown>>;
      resource: Record<string, Record<string, Array<Record<string, unknown>>>>;
    };
    const all = async (): Promise<Parsed> => {
      const merged: Parsed = { locals: [], resource: {} };
      for (const { file, text } of hcl) {
        const p = (await parse(file, text)) as Partial<Parsed>;
        merged.locals.push(...(p.locals ?? []));
        for (const [type, byName] of Object.entries(p.resource ?? {}))
          merged.resource[type] = { ...(merged.resource[type] ?? {}), ...byName };
      }
      return merged;
    };
    const grantsOf = (p: Parsed) =>
      p.locals.find((l) => l.grants)!.grants as Array<{ who: string; role: string; on: string }>;
    const dependsOn = (p: Parsed, type: string, name: string) =>
      ((p.resource[type]![name]![0]!.depends_on as string[] | undefined) ?? []).map((d) =>
        d.replace(/^\$\{(.*)\}$/, '$1'),
      );

    it('the apply identity can read and change the grants on the state bucket it refreshes (objectUser cannot)', async () => {
      const p = await all();
      const onState = grantsOf(p)
        .filter((g) => g.who === 'infra_apply' && g.on === 'bucket:state')
        .map((g) => g.role);
      expect(onState).toEqual(expect.arrayContaining(['roles/storage.objectUser', 'roles/storage.legacyBucketOwner']));
      // and Terraform keeps grants on that bucket, which is why it must read them
      expect(grantsOf(p).some((g) => g.on === 'bucket:state' && g.who !== 'infra_apply')).toBe(true);
    });

    it('image builds read their source from a bucket infra/ creates, which the build account can read, in that order', async () => {
      const p = await all();
      expect(p.resource.google_storage_bucket!.build_source).toBeDefined();
      expect(grantsOf(p)).toContainEqual(
        expect.objectContaining({ who: 'build', role: 'roles/storage.objectViewer', on: 'bucket:build_source' }),
      );
      // the grant names the bucket resource, so the plan creates the bucket first
      const iam = code(readFileSync(join(INFRA, 'iam.tf'), 'utf8'));
      expect(iam).toMatch(/"bucket:build_source"\s*=\s*google_storage_bucket\.build_source\.name/);
      const outputs = code(readFileSync(join(INFRA, 'outputs.tf'), 'utf8'));
      expect(outputs).toMatch(/output "build_source_staging_dir"[\s\S]*google_storage_bucket\.build_source\.name/);
      // every documented build passes it
      for (const doc of ['docs/runbook.md', 'tools/webui-image/README.md', 'apps/region-scout/README.md']) {
        const text = readFileSync(join(__dirname, '../..', doc), 'utf8');
        for (const cmd of text.match(/gcloud builds submit(?:[^\n]*\\\n)*[^\n]*/g) ?? [])
          if (!cmd.includes('--no-source')) expect(cmd).toContain('--gcs-source-staging-dir');
      }
    });

    it('the Multi Cluster Ingress agent is granted after the feature, and the clusters wait only for the node grants', async () => {
      const p = await all();
      expect(dependsOn(p, 'google_project_iam_member', 'mci_agent')).toContain(
        'google_gke_hub_feature.multiclusteringress',
      );
      const clusterDeps = dependsOn(p, 'google_container_cluster', 'fleet');
      expect(clusterDeps).toContain('google_project_iam_member.nodes');
      expect(clusterDeps).not.toContain('google_project_iam_member.grants');
      expect(clusterDeps).not.toContain('google_project_iam_member.mci_agent');
      // the general grants resource no longer holds the agent's or the nodes' grants
      const iam = code(readFileSync(join(INFRA, 'iam.tf'), 'utf8'));
      expect(iam).toMatch(
        /resource "google_project_iam_member" "grants" \{\s*for_each = \{[^}]*!contains\(\["nodes", "mci_agent"\], g\.who\)/,
      );
    });

    it('the apply identity creates service accounts but administers only the fleet’s own, and no longer the WIF pool', async () => {
      const p = await all();
      const apply = grantsOf(p).filter((g) => g.who === 'infra_apply');
      expect(apply.filter((g) => g.role === 'roles/iam.serviceAccountAdmin' && g.on === 'project')).toEqual([]);
      expect(apply).toContainEqual(expect.objectContaining({ role: 'roles/iam.serviceAccountCreator', on: 'project' }));
      expect(
        apply
          .filter((g) => g.role === 'roles/iam.serviceAccountAdmin')
          .map((g) => g.on)
          .sort(),
      ).toEqual(['sa:build', 'sa:config_sync', 'sa:infra_apply', 'sa:infra_plan', 'sa:keda', 'sa:nodes', 'sa:scout']);
      expect(apply.map((g) => g.role)).not.toContain('roles/iam.workloadIdentityPoolAdmin');
      // every service account the fleet creates is administered that way
      const accounts = Object.keys(p.resource.google_service_account!);
      expect(accounts.sort()).toEqual(['build', 'config_sync', 'infra', 'keda', 'nodes', 'scout']);
    });

    it('deletion protection is per cluster, and the managed certificate is renamed with its domains, created before destroyed', async () => {
      const p = await all();
      expect(p.resource.google_container_cluster!.fleet![0]!.deletion_protection).toBe(
        '${each.value.deletion_protection}',
      );
      const cert = p.resource.google_compute_managed_ssl_certificate!.ingress![0]!;
      expect(cert.name).toBe('${local.managed_cert_name}-${substr(sha256(join(",", local.domains)), 0, 8)}');
      expect(cert.lifecycle).toEqual([{ create_before_destroy: true }]);
      // the renderer's name for the same spec: the same formula in TypeScript
      const spec = loadFleetSpec(EXAMPLE_FLEET_YAML).spec;
      const withCert: FleetSpec = {
        ...spec,
        ingress: {
          ...spec.ingress,
          domains: ['sd.example.org', 'www.sd.example.org'],
          managedCertificate: { name: 'sd-cert' },
        },
      };
      const hash = createHash('sha256').update('sd.example.org,www.sd.example.org').digest('hex').slice(0, 8);
      expect(managedCertificateName(withCert)).toBe(`sd-cert-${hash}`);
      const moved: FleetSpec = { ...withCert, ingress: { ...withCert.ingress, domains: ['sd.example.org'] } };
      expect(managedCertificateName(moved)).not.toBe(managedCertificateName(withCert));
    });
  });
});

describe('infra/monitoring.tf maps the rendered Cloud Monitoring files onto the provider', () => {
  /** Paths of the leaves of a rendered policy: arrays of objects as `key` and `key[].leaf`, label maps as one leaf. */
  const leaves = (value: Record<string, unknown>, prefix = ''): string[] =>
    Object.entries(value).flatMap(([k, v]) => {
      const path = `${prefix}${k}`;
      if (Array.isArray(v)) return [path, ...leaves(v[0] as Record<string, unknown>, `${path}[].`)];
      if (v && typeof v === 'object' && k !== 'userLabels') return leaves(v as Record<string, unknown>, `${path}.`);
      return [path];
    });

  it('reads every field of an alert policy file, and no field the files lack', () => {
    const tf = code(readFileSync(join(INFRA, 'monitoring.tf'), 'utf8'));
    const reads = new Set([
      ...[...tf.matchAll(/each\.value\.([A-Za-z][\w.]*)/g)].map((m) => m[1]!),
      ...[...tf.matchAll(/conditions\.value\.([A-Za-z][\w.]*)/g)].map((m) => `conditions[].${m[1]!}`),
    ]);
    const spec = loadFleetSpec(EXAMPLE_FLEET_YAML).spec;
    const policies = alertPolicies(spec);
    expect(policies.length).toBeGreaterThan(3);
    for (const [, policy] of policies)
      expect([...reads].sort()).toEqual([...new Set(leaves(policy as unknown as Record<string, unknown>))].sort());
  });

  it('reads the files render writes, from the folder next to the spec', () => {
    const tf = code(readFileSync(join(INFRA, 'monitoring.tf'), 'utf8'));
    expect(tf).toContain('monitoring_dir      = "${dirname(var.spec_file)}/monitoring"');
    expect(tf).toContain('fileset("${local.monitoring_dir}/alert-policies", "*.yaml")');
    expect(tf).toContain('file("${local.monitoring_dir}/dashboard.yaml")');
    // …which are where render puts them (var.spec_file is fleet-config/fleet.yaml).
    expect(MONITORING_DIR).toBe(`${SPEC_FILE.slice(0, SPEC_FILE.lastIndexOf('/'))}/monitoring`);
    expect(ALERT_POLICIES_DIR).toBe(`${MONITORING_DIR}/alert-policies`);
    expect(DASHBOARD_FILE).toBe(`${MONITORING_DIR}/dashboard.yaml`);
  });
});
