import { createHash } from 'node:crypto';
import { HttpError, googleError, type Handler } from '../http';

/**
 * The few Cloud Storage JSON API calls the scout's evidence store makes, with Google's semantics for
 * what it relies on (https://cloud.google.com/storage/docs/json_api/v1/objects):
 * - objects.get: GET /storage/v1/b/{bucket}/o/{object} (metadata), with `alt=media` (the bytes);
 *   `generation` reads that generation; a missing object is 404.
 * - objects.insert: POST /upload/storage/v1/b/{bucket}/o?uploadType=media|multipart&name=… — every
 *   write makes a new generation.
 * - preconditions on both: ifGenerationMatch (0: the object must not exist yet), answered with
 *   412 Precondition Failed when they do not hold, which makes a read-modify-write a
 *   compare-and-swap (https://cloud.google.com/storage/docs/request-preconditions).
 * - a bucket that does not exist is 404 "The specified bucket does not exist."
 */
export interface StoredObject {
  data: Buffer;
  generation: number;
  metageneration: number;
  contentType: string;
  updated: string;
}

export class SandboxStorage {
  private readonly objects = new Map<string, StoredObject>();
  private readonly buckets: Set<string>;
  private nextGeneration = 1_700_000_000_000_000;

  constructor(
    buckets: Iterable<string>,
    private readonly now: () => Date,
  ) {
    this.buckets = new Set(buckets);
  }

  addBucket(name: string): void {
    this.buckets.add(name);
  }

  get(bucket: string, name: string): StoredObject | undefined {
    return this.objects.get(`${bucket}/${name}`);
  }

  /** Write (tests: another writer). Honors ifGenerationMatch as the API does; returns the new generation. */
  put(bucket: string, name: string, data: Buffer, contentType: string, ifGenerationMatch?: number): StoredObject {
    this.bucketOrThrow(bucket);
    const current = this.get(bucket, name);
    if (ifGenerationMatch !== undefined && (current?.generation ?? 0) !== ifGenerationMatch)
      throw new HttpError(
        412,
        'At least one of the pre-conditions you specified did not hold.',
        googleError(412, 'At least one of the pre-conditions you specified did not hold.', 'conditionNotMet'),
      );
    const obj: StoredObject = {
      data,
      generation: ++this.nextGeneration,
      metageneration: 1,
      contentType,
      updated: this.now().toISOString(),
    };
    this.objects.set(`${bucket}/${name}`, obj);
    return obj;
  }

  bucketOrThrow(bucket: string): void {
    if (!this.buckets.has(bucket))
      throw new HttpError(
        404,
        'The specified bucket does not exist.',
        googleError(404, 'The specified bucket does not exist.', 'notFound'),
      );
  }
}

const resource = (bucket: string, name: string, o: StoredObject) => ({
  kind: 'storage#object',
  id: `${bucket}/${name}/${o.generation}`,
  name,
  bucket,
  generation: String(o.generation),
  metageneration: String(o.metageneration),
  contentType: o.contentType,
  size: String(o.data.length),
  md5Hash: createHash('md5').update(o.data).digest('base64'),
  updated: o.updated,
  timeCreated: o.updated,
});

/** multipart/related: the first part is the JSON metadata, the second the bytes (uploadType=multipart). */
function multipart(
  raw: Buffer,
  contentType: string,
): { metadata: Record<string, unknown>; data: Buffer; type: string } {
  const boundary = /boundary="?([^";]+)"?/.exec(contentType)?.[1];
  if (!boundary) throw new HttpError(400, 'multipart upload without a boundary');
  const text = raw.toString('latin1');
  const parts = text
    .split(`--${boundary}`)
    .slice(1, -1)
    .map((p) => {
      const i = p.indexOf('\r\n\r\n');
      const head = p.slice(0, i);
      let body = p.slice(i + 4);
      if (body.endsWith('\r\n')) body = body.slice(0, -2);
      return { head, body: Buffer.from(body, 'latin1') };
    });
  if (parts.length < 2) throw new HttpError(400, 'multipart upload needs a metadata part and a media part');
  const metadata = JSON.parse(parts[0]!.body.toString('utf8')) as Record<string, unknown>;
  const type = /content-type:\s*([^\r\n]+)/i.exec(parts[1]!.head)?.[1]?.trim() ?? 'application/octet-stream';
  return { metadata, data: parts[1]!.body, type };
}

const generationParam = (q: URLSearchParams, key: string): number | undefined => {
  const v = q.get(key);
  if (v === null) return undefined;
  if (!/^\d+$/.test(v)) throw new HttpError(400, `Invalid argument: ${key}=${v}`);
  return Number(v);
};

export function storageApi(store: SandboxStorage): Handler {
  return async ({ method, path, query, rawBody, headers }) => {
    const preconditionFailed = () =>
      new HttpError(
        412,
        'At least one of the pre-conditions you specified did not hold.',
        googleError(412, 'At least one of the pre-conditions you specified did not hold.', 'conditionNotMet'),
      );
    let m: RegExpExecArray | null;
    if (method === 'GET' && (m = /^\/storage\/v1\/b\/([^/]+)\/o\/([^/]+)$/.exec(path))) {
      const [bucket, name] = [decodeURIComponent(m[1]!), decodeURIComponent(m[2]!)];
      store.bucketOrThrow(bucket);
      const o = store.get(bucket, name);
      const wanted = generationParam(query, 'generation');
      if (!o || (wanted !== undefined && wanted !== o.generation))
        throw new HttpError(
          404,
          `No such object: ${bucket}/${name}`,
          googleError(404, `No such object: ${bucket}/${name}`, 'notFound'),
        );
      const match = generationParam(query, 'ifGenerationMatch');
      if (match !== undefined && match !== o.generation) throw preconditionFailed();
      if (query.get('alt') === 'media')
        return {
          body: o.data.toString('utf8'),
          contentType: o.contentType,
          headers: {
            'x-goog-generation': String(o.generation),
            'x-goog-metageneration': String(o.metageneration),
            'x-goog-hash': `md5=${createHash('md5').update(o.data).digest('base64')}`,
            'x-goog-stored-content-length': String(o.data.length),
          },
        };
      return { body: resource(bucket, name, o) };
    }
    if (method === 'POST' && (m = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(path))) {
      const bucket = decodeURIComponent(m[1]!);
      const type = String(headers['content-type'] ?? 'application/octet-stream');
      const raw = rawBody ?? Buffer.alloc(0);
      let name = query.get('name') ?? undefined;
      let data = raw;
      let contentType = type;
      const uploadType = query.get('uploadType');
      if (uploadType === 'multipart') {
        const p = multipart(raw, type);
        name = name ?? (p.metadata.name as string | undefined);
        data = p.data;
        contentType = (p.metadata.contentType as string | undefined) ?? p.type;
      } else if (uploadType !== 'media') {
        throw new HttpError(
          400,
          `uploadType ${uploadType ?? '(none)'} is not served by the sandbox (media, multipart)`,
        );
      }
      if (!name)
        throw new HttpError(400, 'Required parameter: name', googleError(400, 'Required parameter: name', 'required'));
      const o = store.put(bucket, name, data, contentType, generationParam(query, 'ifGenerationMatch'));
      return { body: resource(bucket, name, o) };
    }
    throw new HttpError(404, `no route ${method} ${path}`);
  };
}
