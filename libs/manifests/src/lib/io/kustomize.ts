import { execFile } from 'node:child_process';
import { loadAll } from 'js-yaml';
import pLimit from 'p-limit';
import type { K8sObject } from '../pure/k8s-object';

export type { K8sObject } from '../pure/k8s-object';
import { availableParallelism } from 'node:os';

export class KubectlMissingError extends Error {
  constructor(readonly command: string) {
    super(
      `${command} was not found on PATH. validate builds every overlay with the real kustomize bundled in kubectl (v1.14+). ` +
        'Install kubectl (https://kubernetes.io/docs/tasks/tools/, or `apt-get install kubectl` / `gcloud components install kubectl`), or point KUBECTL at it.',
    );
    this.name = 'KubectlMissingError';
  }
}

export class KustomizeBuildError extends Error {
  constructor(
    readonly dir: string,
    readonly stderr: string,
  ) {
    super(`kustomize build ${dir} failed: ${stderr.trim()}`);
    this.name = 'KustomizeBuildError';
  }
}

export interface KustomizeOptions {
  /** kubectl binary; default $KUBECTL or "kubectl". */
  kubectl?: string;
  /** Concurrent builds; default 2 × cores (builds are mostly process start-up). */
  concurrency?: number;
}

/** `kubectl kustomize <dir>` → the built objects. */
export function kustomizeBuild(dir: string, options: KustomizeOptions = {}): Promise<K8sObject[]> {
  const kubectl = options.kubectl ?? process.env.KUBECTL ?? 'kubectl';
  return new Promise((resolve, reject) => {
    // GOGC=off: kubectl lives ~70 ms here; skipping Go's garbage collector saves ~30 % CPU per build.
    const env = { ...process.env, GOGC: 'off' };
    execFile(
      kubectl,
      ['kustomize', dir],
      { maxBuffer: 64 * 1024 * 1024, timeout: 60_000, env },
      (err, stdout, stderr) => {
        if (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') return reject(new KubectlMissingError(kubectl));
          return reject(new KustomizeBuildError(dir, cleanKubectlError(stderr || err.message)));
        }
        try {
          // kubectl's output is machine-written plain YAML that is only read, never edited: js-yaml
          // loads it several times faster than the Document API of \`yaml\` (which the spec editing
          // needs for its comments), a visible share of validate's time (docs/benchmarks.md).
          resolve((loadAll(stdout) as Array<K8sObject | null>).filter((o): o is K8sObject => !!o));
        } catch (e) {
          reject(new KustomizeBuildError(dir, `unparseable output: ${(e as Error).message}`));
        }
      },
    );
  });
}

/** Build many folders in parallel; each result is the objects or the error for that folder. */
export async function kustomizeBuildAll(
  dirs: string[],
  options: KustomizeOptions = {},
): Promise<Map<string, K8sObject[] | Error>> {
  const limit = pLimit(options.concurrency ?? Math.max(2, availableParallelism() * 2));
  const results = await Promise.all(
    dirs.map((dir) =>
      limit(async () => {
        try {
          return [dir, await kustomizeBuild(dir, options)] as [string, K8sObject[] | Error];
        } catch (e) {
          if (e instanceof KubectlMissingError) throw e;
          return [dir, e as Error] as [string, K8sObject[] | Error];
        }
      }),
    ),
  );
  return new Map(results);
}

/** kubectl prints errors through klog (`E1123 12:00:00 … run.go:72] "command failed" err="…"`); keep the message. */
export function cleanKubectlError(stderr: string): string {
  const m = /err="((?:[^"\\]|\\.)*)"/.exec(stderr);
  if (!m) return stderr.trim();
  try {
    return JSON.parse(`"${m[1]}"`) as string;
  } catch {
    return m[1]!;
  }
}
