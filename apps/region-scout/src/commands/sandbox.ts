import { startEmbeddedSandbox } from '@gpu-fleet/sandbox';
import { readSpec, type Io, type Workspace } from '../context';
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
  const spec = readSpec(ws);
  const sb = await startEmbeddedSandbox({ spec, seed: options.seed, timeFactor: options.timeFactor });
  // An access token to start with (it expires like Google's); the refresh token gets new ones from oauth2Token.
  io.out(
    JSON.stringify({
      ...sb.sandbox.endpoints,
      projectNumber: sb.world.projectNumber,
      accessToken: sb.sandbox.accessToken(),
      refreshToken: sb.sandbox.refreshToken,
    }),
  );
  io.err(
    `sandbox serving (seed ${options.seed}, clock ×${options.timeFactor}); Kubernetes API of membership M (location L) at ${sb.sandbox.endpoints.connectgateway}/v1/projects/${sb.world.projectNumber}/locations/L/gkeMemberships/M. Ctrl-C to stop.`,
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
