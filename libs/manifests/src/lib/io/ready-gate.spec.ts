import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { READY_GATE_PY } from '../pure/builders/ready-gate.py';
import { drainCommand } from '../pure/builders/workload';

/**
 * The ready gate's script, run for real with python3 against a stand-in for the WebUI API that
 * behaves as the WebUI does at start-up: the API answers first, and /sdapi/v1/txt2img waits until
 * the model has loaded. Loopback only.
 */
jest.setTimeout(60_000);

class FakeWebUI {
  apiUp = false;
  modelLoaded = false;
  busy = false;
  /** Tasks /internal/pending-tasks lists (null: a WebUI without that path). */
  queued: number | null = 0;
  /** /sdapi/v1/progress never answers (its threadpool is busy). */
  progressHangs = false;
  /** /internal/pending-tasks answers 500. */
  pendingFails = false;
  /** Generations waiting for the model. */
  pending = 0;
  generations: Array<Record<string, unknown>> = [];
  private waiting: Array<() => void> = [];
  private server = http.createServer((req, res) => void this.handle(req, res));
  port = 0;

  async start() {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
  }

  loadModel() {
    this.modelLoaded = true;
    for (const w of this.waiting.splice(0)) w();
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse) {
    if (!this.apiUp) return req.socket.destroy();
    const json = (code: number, body: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'GET' && req.url?.startsWith('/sdapi/v1/progress') && this.progressHangs) return;
    if (req.method === 'GET' && req.url === '/internal/pending-tasks' && this.pendingFails)
      return json(500, { detail: 'Internal Server Error' });
    if (req.method === 'GET' && req.url?.startsWith('/sdapi/v1/progress'))
      return json(200, { progress: 0, state: { job: this.busy ? 'job 1' : '', job_count: this.busy ? 1 : 0 } });
    if (req.method === 'GET' && req.url === '/internal/pending-tasks' && this.queued !== null)
      return json(200, { size: this.queued, tasks: Array.from({ length: this.queued }, (_, i) => `task(${i})`) });
    if (req.method === 'POST' && req.url === '/sdapi/v1/txt2img') {
      let raw = '';
      for await (const c of req) raw += String(c);
      // like shared.sd_model: blocks on the model lock until loading has finished
      if (!this.modelLoaded) {
        this.pending++;
        await new Promise<void>((r) => this.waiting.push(r));
        this.pending--;
      }
      this.generations.push(JSON.parse(raw) as Record<string, unknown>);
      return json(200, { images: [], parameters: {}, info: '{}' });
    }
    json(404, { detail: 'Not Found' });
  }

  /** The WebUI process is gone: nothing listens on its port any more (connections are refused). */
  async stop() {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  close() {
    if (!this.server.listening) return Promise.resolve();
    for (const w of this.waiting.splice(0)) w();
    this.server.closeAllConnections();
    return new Promise<void>((r) => this.server.close(() => r()));
  }
}

const python = ['python3', 'python'].find((p) => spawnSync(p, ['--version']).status === 0);

async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function until(what: string, check: () => Promise<boolean>, ms = 15_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('ready gate (python3, against a stand-in WebUI)', () => {
  let dir: string;
  let webui: FakeWebUI;
  let gate: ChildProcess;
  let gatePort: number;
  const ready = async () => (await fetch(`http://127.0.0.1:${gatePort}/ready`).catch(() => null))?.status ?? 0;

  beforeEach(async () => {
    if (!python)
      throw new Error('python3 is needed to test the ready gate (the WebUI image runs it with its own Python)');
    dir = mkdtempSync(join(tmpdir(), 'ready-gate-'));
    writeFileSync(join(dir, 'ready_gate.py'), READY_GATE_PY);
    webui = new FakeWebUI();
    await webui.start();
    gatePort = await freePort();
    gate = spawn(
      python,
      [
        join(dir, 'ready_gate.py'),
        '--app-port',
        String(webui.port),
        '--port',
        String(gatePort),
        '--path',
        '/ready',
        '--drain-seconds',
        '20',
        '--detach-seconds',
        '0',
        '--poll-seconds',
        '0.1',
        '--answer-seconds',
        '0.3',
      ],
      { stdio: 'ignore' },
    );
    await until('the gate to listen', async () => (await ready()) !== 0);
  });

  afterEach(async () => {
    gate.kill('SIGKILL');
    await webui.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is not ready while the API is down, nor while the model loads; ready after one tiny generation', async () => {
    expect(await ready()).toBe(503);
    webui.apiUp = true;
    // the API answers, the model is still loading: the warm-up generation is waiting
    await until('the warm-up generation to wait for the model', async () => webui.pending === 1);
    expect(await ready()).toBe(503);
    webui.loadModel();
    await until('ready', async () => (await ready()) === 200);
    expect(webui.generations).toEqual([
      expect.objectContaining({ steps: 1, width: 64, height: 64, send_images: false, save_images: false }),
    ]);
  });

  it('drains: not ready at once, and holds the stop until the WebUI is idle, queued requests included', async () => {
    webui.apiUp = true;
    webui.loadModel();
    await until('ready', async () => (await ready()) === 200);
    webui.busy = true;
    let drained: string | null = null;
    const drain = fetch(`http://127.0.0.1:${gatePort}/drain`).then(async (r) => {
      drained = ((await r.json()) as { drained: string }).drained;
    });
    await until('not ready while draining', async () => (await ready()) === 503);
    await new Promise((r) => setTimeout(r, 1000));
    expect(drained).toBeNull();
    // The running generation ends but another request waits for the queue lock: still held.
    webui.queued = 1;
    webui.busy = false;
    await new Promise((r) => setTimeout(r, 1000));
    expect(drained).toBeNull();
    webui.queued = 0;
    await drain;
    expect(drained).toBe('idle');
  });

  const startDrain = (localAddress = '127.0.0.1') => {
    const out: { status: number; drained: string | null; done: boolean } = { status: 0, drained: null, done: false };
    const req = http.get({ host: '127.0.0.1', port: gatePort, path: '/drain', localAddress }, (res) => {
      let raw = '';
      res.on('data', (c) => (raw += String(c)));
      res.on('end', () => {
        out.status = res.statusCode ?? 0;
        out.drained = (JSON.parse(raw) as { drained?: string }).drained ?? null;
        out.done = true;
      });
    });
    req.on('error', () => (out.done = true));
    return out;
  };

  it('a WebUI that does not answer is busy, not idle: the drain waits for a real answer', async () => {
    webui.apiUp = true;
    webui.loadModel();
    await until('ready', async () => (await ready()) === 200);
    // generating, and the API's threadpool is taken: progress requests time out
    webui.busy = true;
    webui.progressHangs = true;
    const d = startDrain();
    await until('not ready while draining', async () => (await ready()) === 503);
    // many answer timeouts (0.3 s each) later, still held
    await new Promise((r) => setTimeout(r, 2500));
    expect(d.done).toBe(false);
    // progress answers idle, but the queue cannot be read: still held
    webui.progressHangs = false;
    webui.busy = false;
    webui.pendingFails = true;
    await new Promise((r) => setTimeout(r, 1000));
    expect(d.done).toBe(false);
    webui.pendingFails = false;
    await until('the drain to end', async () => d.done);
    expect(d).toMatchObject({ status: 200, drained: 'idle' });
  });

  it('a refused connection means the WebUI is gone: the drain ends at once', async () => {
    webui.apiUp = true;
    webui.loadModel();
    await until('ready', async () => (await ready()) === 200);
    webui.busy = true;
    const d = startDrain();
    await until('not ready while draining', async () => (await ready()) === 503);
    await new Promise((r) => setTimeout(r, 500));
    expect(d.done).toBe(false);
    await webui.stop();
    await until('the drain to end', async () => d.done, 5000);
    expect(d).toMatchObject({ status: 200, drained: 'gone' });
  });

  it('takes /drain from inside the pod only: another address is refused and the pod keeps serving', async () => {
    webui.apiUp = true;
    webui.loadModel();
    await until('ready', async () => (await ready()) === 200);
    // 127.0.0.2 is another source address on the loopback network: what a request from elsewhere looks like to the gate
    const other = startDrain('127.0.0.2');
    await until('the answer', async () => other.done);
    expect(other.status).toBe(403);
    expect(await ready()).toBe(200);
    // the preStop hook's own request, as rendered, over 127.0.0.1
    // (spawned, not spawnSync: the stand-in WebUI answers from this process's event loop)
    const cmd = drainCommand(python!, gatePort, 20);
    const hook = spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    hook.stdout!.on('data', (c) => (stdout += String(c)));
    const code = await new Promise<number | null>((r) => hook.on('close', r));
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ drained: 'idle' });
    expect(await ready()).toBe(503);
  });

  it('warms up again after the WebUI restarts', async () => {
    webui.apiUp = true;
    webui.loadModel();
    await until('ready', async () => (await ready()) === 200);
    webui.apiUp = false;
    webui.modelLoaded = false;
    await until('not ready once the WebUI stops answering', async () => (await ready()) === 503);
    webui.apiUp = true;
    await until('a new warm-up generation to wait for the model', async () => webui.pending === 1);
    expect(await ready()).toBe(503);
    webui.loadModel();
    await until('ready again', async () => (await ready()) === 200);
    expect(webui.generations).toHaveLength(2);
  });

  it('exports the load the autoscaler scales on: running and queued generations, as Prometheus text', async () => {
    const scrape = async () => {
      const r = await fetch(`http://127.0.0.1:${gatePort}/metrics`);
      expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const text = await r.text();
      const value = (state: string) =>
        Number(new RegExp(`^gpu_fleet_webui_generations\\{state="${state}"\\} (\\d+)$`, 'm').exec(text)?.[1]);
      expect(text).toMatch(/^# TYPE gpu_fleet_webui_generations gauge$/m);
      const ready = Number(/^gpu_fleet_webui_ready (\d)$/m.exec(text)?.[1]);
      return { running: value('running'), queued: value('queued'), ready };
    };
    // the WebUI is down: nothing runs, nothing can be queued, not ready
    expect(await scrape()).toEqual({ running: 0, queued: 0, ready: 0 });
    webui.apiUp = true;
    webui.loadModel();
    await until('ready', async () => (await ready()) === 200);
    expect(await scrape()).toEqual({ running: 0, queued: 0, ready: 1 });
    webui.busy = true;
    webui.queued = 3;
    expect(await scrape()).toEqual({ running: 1, queued: 3, ready: 1 });
    // an older WebUI without /internal/pending-tasks: still the running one
    webui.queued = null;
    expect(await scrape()).toEqual({ running: 1, queued: 0, ready: 1 });
  });
});
