import { renameSync, writeFileSync } from 'node:fs';
import { parseFleetSpec, SpecError, writeMachineFields } from '@gpu-fleet/fleet-spec';
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
export function pin(ws: Workspace, io: Io, o: PinOptions): number {
  if (o.staticIpAddress === undefined && o.scoutImage === undefined) {
    throw new CliError('pin: nothing to write; pass --static-ip-address "$(terraform -chdir=infra output -raw static_ip_address)" and/or --scout-image <ref@sha256:…>');
  }
  const { document, text: before } = readSpecDocument(ws);
  const text = writeMachineFields(document, { staticIpAddress: o.staticIpAddress, scoutImage: o.scoutImage });
  const parsed = parseFleetSpec(text, { file: ws.specLabel, catalog: ws.catalog });
  if (!parsed.ok) throw new CliError(new SpecError(ws.specLabel, parsed.issues).message + '\nNothing was written.');
  const changed = text !== before;
  const tree = renderTree(parsed.spec, ws.catalog);
  // The generated tree first: if render refuses (a hand-edited generated file), the spec is untouched.
  const drift = writeRendered(ws, tree, '\nThe spec was not changed.');
  if (changed) {
    const tmp = `${ws.specPath}.${process.pid}.tmp`;
    writeFileSync(tmp, text);
    renameSync(tmp, ws.specPath);
  }
  const what = [o.staticIpAddress !== undefined && `ingress.staticIp.address = ${o.staticIpAddress}`, o.scoutImage !== undefined && `scout.image = ${o.scoutImage}`].filter(Boolean).join(', ');
  io.out(`pin: ${changed ? `${ws.specLabel}: ${what}` : `${ws.specLabel} already has ${what}`}; ${describeDrift(drift, tree.files.size)}`);
  return EXIT.ok;
}

/** `get <path>`: one value of the validated spec (defaults applied), for scripts and workflows. */
export function get(ws: Workspace, io: Io, path: string): number {
  const { spec } = readSpecDocument(ws);
  let value: unknown = spec;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object' || !(key in value)) {
      throw new CliError(`get: "${path}" is not a field of the spec (at "${key}"); see docs/reference/fleet-spec.md`);
    }
    value = (value as Record<string, unknown>)[key];
  }
  io.out(typeof value === 'string' ? value : JSON.stringify(value));
  return EXIT.ok;
}
