import { renderTree, SPEC_FILE } from '@gpu-fleet/manifests';
import { startEmbeddedSandbox } from '@gpu-fleet/sandbox';
import { readSpecDocument, type Io, type Workspace } from '../context';
import { EXIT } from '../errors';

/**
 * Serve the sandbox until interrupted, printing its endpoints as one JSON line so any standard
 * client (gcloud-style REST, kubectl through the gateway URL, octokit) can be pointed at it.
 */
export async function sandboxCommand(
  ws: Workspace,
  io: Io,
  options: { seed: number; timeFactor: number; signal?: AbortSignal },
): Promise<number> {
  const { spec, text } = readSpecDocument(ws);
  const sb = await startEmbeddedSandbox({
    spec,
    seed: options.seed,
    timeFactor: options.timeFactor,
    githubFiles: seededRepository(spec, text, ws),
  });
  // An access token to start with (it expires like Google's); the refresh token gets new ones from oauth2Token.
  io.out(
    JSON.stringify({
      ...sb.sandbox.endpoints,
      projectNumber: sb.world.projectNumber,
      accessToken: sb.sandbox.accessToken(),
      refreshToken: sb.sandbox.refreshToken,
      githubToken: sb.sandbox.githubToken,
      githubRepository: `${sb.sandbox.github.owner}/${sb.sandbox.github.repo}`,
    }),
  );
  io.err(
    `sandbox serving (seed ${options.seed}, clock ×${options.timeFactor}); Kubernetes API of membership M (location L) at ${sb.sandbox.endpoints.connectgateway}/v1/projects/${sb.world.projectNumber}/locations/L/gkeMemberships/M, {host} being connectgateway.googleapis.com for L=global, else L-connectgateway.googleapis.com (as Google). Ctrl-C to stop.`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    options.signal?.addEventListener('abort', stop);
  });
  await sb.close();
  return EXIT.ok;
}

/**
 * The files of the sandbox's GitHub repository (docs/sandbox.md): the spec as it is on disk and the
 * tree rendered from it, under configSync.dir — what a sweep reads from GitHub without a checkout.
 */
export function seededRepository(
  spec: Parameters<typeof renderTree>[0],
  specText: string,
  ws: Pick<Workspace, 'catalog'>,
): Record<string, string> {
  const prefix = spec.configSync.dir ? `${spec.configSync.dir.replace(/\/+$/, '')}/` : '';
  const tree = renderTree(spec, ws.catalog);
  const files: Record<string, string> = { [prefix + SPEC_FILE]: specText };
  for (const [path, content] of [...tree.files, ...tree.seeds]) files[prefix + path] = content;
  return files;
}
