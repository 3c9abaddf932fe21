import writeFileAtomic from 'write-file-atomic';
import {
  appNamespace,
  configClusterRegion,
  connectionDrainingSeconds,
  fleetJsonSchema,
  parseFleetSpec,
  scoutServiceAccount,
  SpecError,
  terminationGracePeriodSeconds,
  writeMachineFields,
  type FleetSpec,
} from '@gpu-fleet/fleet-spec';
import { renderTree } from '@gpu-fleet/manifests';
import { readSpecDocument, type Io, type Workspace } from '../context';
import { CliError, EXIT } from '../errors';
import { describeDrift, writeRendered } from './render';

export interface PinOptions {
  staticIpAddress?: string;
  scoutImage?: string;
}

/**
 * `pin`: write the machine-owned values into the spec (the static IP address from the Terraform
 * output, the scout image digest from a build) and re-render, so nobody pastes them by hand. The new
 * spec is validated before anything is written; an unchanged value writes nothing.
 */
export function pin(ws: Workspace, io: Io, options: PinOptions): number {
  if (options.staticIpAddress === undefined && options.scoutImage === undefined) {
    throw new CliError(
      'pin: nothing to write; pass --static-ip-address "$(terraform -chdir=infra output -raw static_ip_address)" and/or --scout-image <ref@sha256:…>',
    );
  }
  const { document, text: before } = readSpecDocument(ws);
  const text = writeMachineFields(document, {
    staticIpAddress: options.staticIpAddress,
    scoutImage: options.scoutImage,
  });
  const parsed = parseFleetSpec(text, { file: ws.specLabel, catalog: ws.catalog });
  if (!parsed.ok) throw new CliError(new SpecError(ws.specLabel, parsed.issues).message + '\nNothing was written.');
  const changed = text !== before;
  const tree = renderTree(parsed.spec, ws.catalog);
  // The generated tree first: if render refuses (a hand-edited generated file), the spec is untouched.
  const drift = writeRendered(ws, tree, '\nThe spec was not changed.');
  // Written beside the spec and renamed over it (keeping its mode): a reader never sees half a spec.
  if (changed) writeFileAtomic.sync(ws.specPath, text);
  const what = [
    options.staticIpAddress !== undefined && `ingress.staticIp.address = ${options.staticIpAddress}`,
    options.scoutImage !== undefined && `scout.image = ${options.scoutImage}`,
  ]
    .filter(Boolean)
    .join(', ');
  io.out(
    `pin: ${changed ? `${ws.specLabel}: ${what}` : `${ws.specLabel} already has ${what}`}; ${describeDrift(drift, tree.files.size)}`,
  );
  return EXIT.ok;
}

/**
 * Fields whose default is computed from other fields (the schema cannot state it): `get` prints the
 * value the renderer and infra/ use, not "unset".
 */
const DERIVED: Record<string, (spec: FleetSpec) => unknown> = {
  'app.namespace': appNamespace,
  'app.terminationGracePeriodSeconds': terminationGracePeriodSeconds,
  'configCluster.region': configClusterRegion,
  'ingress.connectionDrainingSec': connectionDrainingSeconds,
  'scout.gcpServiceAccount': scoutServiceAccount,
};

/** Whether `parent.key` is a property the spec's schema defines (then it is only unset, not unknown). */
function isOptionalField(parent: string, key: string): boolean {
  let node = fleetJsonSchema() as { properties?: Record<string, unknown> };
  for (const k of parent ? parent.split('.') : []) {
    const next = node.properties?.[k] as typeof node | undefined;
    if (!next) return false;
    node = next;
  }
  return Boolean(node.properties && key in node.properties);
}

/** `get <path>`: one value of the validated spec (defaults applied), for scripts and workflows. */
export function get(ws: Workspace, io: Io, path: string): number {
  const { spec } = readSpecDocument(ws);
  let value: unknown = spec;
  const keys = path.split('.');
  for (const [i, key] of keys.entries()) {
    if (
      value === null ||
      typeof value !== 'object' ||
      !(key in value) ||
      (value as Record<string, unknown>)[key] === undefined
    ) {
      const derived = DERIVED[path];
      if (derived) {
        value = derived(spec);
        break;
      }
      const parent = keys.slice(0, i).join('.');
      if (value !== null && typeof value === 'object' && !Array.isArray(value) && isOptionalField(parent, key)) {
        throw new CliError(`get: "${path}" is not set in ${ws.specLabel} and has no default`, EXIT.checkFailed);
      }
      throw new CliError(`get: "${path}" is not a field of the spec (at "${key}"); see docs/reference/fleet-spec.md`);
    }
    value = (value as Record<string, unknown>)[key];
  }
  io.out(typeof value === 'string' ? value : JSON.stringify(value));
  return EXIT.ok;
}
