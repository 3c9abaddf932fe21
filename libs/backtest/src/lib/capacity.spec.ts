import { GpuCatalog } from '@gpu-fleet/gcp-catalog';
import { parseTraceFile, parseTraceMap, TraceCapacity, TraceError } from './capacity';

const catalog = GpuCatalog.bundled();

describe('traces.yaml', () => {
  it('accepts zones that offer the GPU', () => {
    const map = parseTraceMap('- gpu: nvidia-l4\n  zones:\n    us-central1-a: a.json\n', 'traces.yaml', catalog);
    expect(map).toEqual([{ gpu: 'nvidia-l4', zones: { 'us-central1-a': 'a.json' } }]);
  });

  it('names the entry, the bad value and the fix', () => {
    expect(() => parseTraceMap('- gpu: nvidia-l5\n  zones: {us-central1-a: a.json}\n', 'traces.yaml', catalog)).toThrow(
      /traces\.yaml: \[0\]\.gpu = "nvidia-l5" is not a GPU type of the catalog; use a GKE accelerator name such as/,
    );
    expect(() => parseTraceMap('- gpu: nvidia-l4\n  zones: {us-east4-b: a.json}\n', 'traces.yaml', catalog)).toThrow(
      'traces.yaml: [0].zones."us-east4-b": nvidia-l4 is not offered in us-east4-b; zones of us-east4 that offer it: us-east4-a, us-east4-c',
    );
    expect(() => parseTraceMap('gpu: nvidia-l4\n', 'traces.yaml', catalog)).toThrow(
      /traces\.yaml: document: .*Expected a list of \{gpu: nvidia-l4, zones: \{us-central1-a: file\.json\}\}/,
    );
    expect(() => parseTraceMap('- gpu: nvidia-l4\n  zone: {}\n', 'traces.yaml', catalog)).toThrow(TraceError);
  });
});

describe('trace files', () => {
  it('refuses what is not the documented format, naming the field', () => {
    expect(() => parseTraceFile('{"metadata":{"gap_seconds":0},"data":[1]}', 'x.json')).toThrow(
      /x\.json: metadata\.gap_seconds: .*expected \{"metadata":\{"gap_seconds":N\},"data":\[counts…\]\}/,
    );
    expect(() => parseTraceFile('{"metadata":{"gap_seconds":600},"data":[1,-1]}', 'x.json')).toThrow(
      /x\.json: data\.1:/,
    );
    expect(() => parseTraceFile('not json', 'x.json')).toThrow(/x\.json: not JSON/);
  });

  it('answers per tick, no capacity for unmapped pairs, and ends with the shortest trace', () => {
    const map = parseTraceMap(
      '- gpu: nvidia-l4\n  zones: {us-central1-a: a.json, europe-west4-a: b.json}\n',
      'traces.yaml',
      catalog,
    );
    const files = new Map([
      ['a.json', parseTraceFile('{"metadata":{"gap_seconds":600},"data":[0,2,1]}', 'a.json')],
      ['b.json', parseTraceFile('{"metadata":{"gap_seconds":300},"data":[1,1,0,0]}', 'b.json')],
    ]);
    const cap = new TraceCapacity(map, files, 'test');
    expect(cap.lengthMinutes).toBe(20);
    expect([0, 9, 10, 19, 20, 29, 30].map((m) => cap.has('us-central1-a', 'nvidia-l4', m))).toEqual([
      false,
      false,
      true,
      true,
      true,
      true,
      false,
    ]);
    expect([0, 9, 10].map((m) => cap.has('europe-west4-a', 'nvidia-l4', m))).toEqual([true, true, false]);
    expect(cap.has('us-central1-a', 'nvidia-tesla-t4', 15)).toBe(false);
    expect(cap.has('us-central1-b', 'nvidia-l4', 15)).toBe(false);
  });
});
