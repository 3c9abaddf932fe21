/**
 * The ready gate: a Python (standard library only) sidecar of the WebUI pod. Why it exists: the
 * WebUI has no HTTP path that means "a generation can run now". Its API comes up first and the
 * model loads afterwards in a background thread (AUTOMATIC1111/stable-diffusion-webui
 * modules/initialize.py, initialize_rest → load_model → Thread(target=load_model).start());
 * /sdapi/v1/sd-models lists checkpoint files (modules/api/api.py get_sd_models) and /internal/ping
 * returns {} (modules/ui.py setup_ui_api) whether or not a model is loaded. But /sdapi/v1/txt2img
 * reads shared.sd_model, which waits on the model lock until loading has finished
 * (modules/sd_models.py SdModelData.get_sd_model) — so one tiny generation that succeeds proves the
 * pod can serve.
 *
 * What it does:
 * - GET <path> on <port>: 200 once one 1-step 64×64 txt2img has succeeded and the WebUI still
 *   answers; 503 before, while draining, and after the WebUI stopped answering (a restarted WebUI
 *   is warmed up again). The kubelet readiness probe and the load balancer health check use it.
 * - GET /drain, from loopback only (the WebUI container's exec preStop hook calls 127.0.0.1 inside
 *   the pod; any other address gets 403, so no VM or pod in the VPC can take a pod out of service):
 *   stop reporting ready, wait for the endpoint to leave the load balancer, then until the WebUI is
 *   idle (no job in /sdapi/v1/progress and none in /internal/pending-tasks, twice in a row) or the
 *   draining time has passed; only then does the kubelet send SIGTERM to the WebUI, which would
 *   otherwise cut the generation in flight. Only a refused connection means the WebUI is gone: a
 *   timeout or an error is *not* idle — the WebUI's API handlers are plain `def` functions that
 *   FastAPI runs on a bounded threadpool (https://fastapi.tiangolo.com/async/#path-operation-functions),
 *   and txt2img/img2img block there on the queue lock (modules/api/api.py `with self.queue_lock`),
 *   so a busy WebUI can leave /sdapi/v1/progress unanswered while it is generating.
 * - GET /metrics: the WebUI's load in the Prometheus text format (a gauge, running and queued
 *   generations) and whether the pod is ready, scraped by Managed Service for Prometheus through a PodMonitoring when
 *   autoscaling is on. Running: a job in /sdapi/v1/progress; queued: the size of
 *   /internal/pending-tasks, the tasks waiting for the WebUI's queue lock (modules/progress.py
 *   setup_progress_api, get_pending_tasks); an older WebUI without that path counts 0 queued.
 * - Runs as a native sidecar (an init container with restartPolicy Always), so it outlives the
 *   WebUI container while the pod stops (https://kubernetes.io/docs/concepts/workloads/pods/sidecar-containers/).
 */
export const READY_GATE_PY = String.raw`"""gpu-fleet ready gate: ready only once the WebUI can generate; holds a stopping pod until it is idle."""
import argparse
import http.server
import json
import signal
import sys
import threading
import time
import urllib.error
import urllib.request

p = argparse.ArgumentParser()
p.add_argument("--app-port", type=int, required=True)
p.add_argument("--port", type=int, required=True)
p.add_argument("--path", required=True)
p.add_argument("--drain-seconds", type=int, required=True)
p.add_argument("--detach-seconds", type=int, default=15)
p.add_argument("--poll-seconds", type=float, default=5.0)
p.add_argument("--answer-seconds", type=float, default=5.0)  # how long to wait for the WebUI's API to answer
args = p.parse_args()

APP = "http://127.0.0.1:%d" % args.app_port
WARMUP = {"prompt": "gpu-fleet readiness check", "steps": 1, "width": 64, "height": 64, "batch_size": 1, "n_iter": 1, "send_images": False, "save_images": False}
state = {"warm": False, "alive": False, "draining": False}
lock = threading.Lock()


def log(msg):
    print("ready-gate: " + msg, flush=True)


def call(method, path, body=None, timeout=10.0):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(APP + path, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as res:
        return res.status, json.loads(res.read() or b"null")


GONE = "gone"  # nothing listens on the WebUI's port: connection refused


def ask(path):
    """(status, body); GONE when the connection is refused; None when the answer is unknown (timeout, reset, garbage)."""
    try:
        return call("GET", path, timeout=args.answer_seconds)
    except urllib.error.HTTPError as e:
        return (e.code, None)
    except urllib.error.URLError as e:
        return GONE if isinstance(e.reason, ConnectionRefusedError) else None
    except ConnectionRefusedError:
        return GONE
    except (OSError, ValueError):
        return None


def progress():
    r = ask("/sdapi/v1/progress?skip_current_image=true")
    return r[1] if (r not in (None, GONE) and r[0] == 200) else None


def idle(body):
    st = (body or {}).get("state") or {}
    return not st.get("job") and not st.get("job_count")


STARTED = time.monotonic()


def warm_up():
    """Wait for the API, then one tiny generation; it blocks until the model has loaded."""
    api_at = None
    while not state["draining"]:
        if progress() is None:
            time.sleep(args.poll_seconds)
            continue
        if api_at is None:
            api_at = time.monotonic()
            # The cold start's parts, in the pod's log (docs/cold-start.md): the gate starts with the pod.
            log("the WebUI API answered %.0f s after the gate started" % (api_at - STARTED))
        try:
            status, body = call("POST", "/sdapi/v1/txt2img", WARMUP, timeout=3600.0)
            if status == 200 and isinstance(body, dict) and "parameters" in body:
                with lock:
                    state["warm"] = state["alive"] = True
                now = time.monotonic()
                log("warm-up generation succeeded: ready %.0f s after the gate started (%.0f s after the API answered: model read, load and one generation)" % (now - STARTED, now - api_at))
                return
            log("warm-up generation answered %s; retrying" % status)
        except (OSError, ValueError, urllib.error.URLError) as e:
            log("warm-up generation failed (%s); retrying" % e)
        time.sleep(args.poll_seconds)


def watch():
    """Liveness of the WebUI once warm; two misses in a row mean it restarted: warm up again."""
    misses = 0
    while True:
        if not state["warm"]:
            warm_up()
        time.sleep(args.poll_seconds)
        ok = progress() is not None
        misses = 0 if ok else misses + 1
        with lock:
            state["alive"] = ok or misses < 2
            if misses >= 2 and not state["draining"]:
                state["warm"] = False
                log("the WebUI stopped answering; warming up again")


def drain():
    with lock:
        state["draining"] = True
    log("draining: waiting %ds for the load balancer to stop sending, then for the WebUI to be idle" % args.detach_seconds)
    time.sleep(args.detach_seconds)
    deadline = time.monotonic() + args.drain_seconds
    quiet = 0
    while time.monotonic() < deadline:
        seen = work()
        if seen == GONE:
            log("the WebUI is gone (connection refused): nothing left to wait for")
            return "gone"
        # Idle: nothing running and nothing queued behind the running one (queued requests wait
        # inside this WebUI for its queue lock; stopping now would cut them too). Unknown is busy.
        quiet = quiet + 1 if seen == 0 else 0
        if seen is None:
            log("no answer from the WebUI (busy?): still waiting")
        if quiet >= 2:
            log("idle: letting the WebUI stop")
            return "idle"
        time.sleep(min(2.0, args.poll_seconds))
    log("draining time over: letting the WebUI stop")
    return "deadline"


def work():
    """Generations running or queued: a number, GONE, or None when the WebUI did not say."""
    r = ask("/sdapi/v1/progress?skip_current_image=true")
    if r in (None, GONE):
        return r
    if r[0] != 200:
        return None
    if not idle(r[1]):
        return 1
    return pending()


def pending():
    """Tasks waiting for the queue lock; 0 for an older WebUI without the path (404); None/GONE as ask()."""
    r = ask("/internal/pending-tasks")
    if r in (None, GONE):
        return r
    if r[0] == 404:
        return 0
    if r[0] != 200:
        return None
    try:
        return int((r[1] or {}).get("size") or 0)
    except (TypeError, ValueError, AttributeError):
        return None


def metrics():
    body = progress()
    running = 0 if (body is None or idle(body)) else 1
    queued = pending() if body is not None else 0
    queued = queued if isinstance(queued, int) else 0
    with lock:
        ready = 1 if (state["warm"] and state["alive"] and not state["draining"]) else 0
    return (
        "# HELP gpu_fleet_webui_generations Generations in this WebUI: running (0 or 1) and queued.\n"
        "# TYPE gpu_fleet_webui_generations gauge\n"
        'gpu_fleet_webui_generations{state="running"} %d\n'
        'gpu_fleet_webui_generations{state="queued"} %d\n'
        "# HELP gpu_fleet_webui_ready 1 when this pod can serve a generation (what the readiness path answers).\n"
        "# TYPE gpu_fleet_webui_ready gauge\n"
        "gpu_fleet_webui_ready %d\n" % (running, queued, ready)
    )


LOOPBACK = ("127.0.0.1", "::1", "::ffff:127.0.0.1")


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == args.path:
            with lock:
                ready = state["warm"] and state["alive"] and not state["draining"]
            self.answer(200 if ready else 503, {"ready": ready, "draining": state["draining"]})
        elif path == "/drain":
            # Only the pod itself may drain it (its preStop hook, over loopback); the port is open to
            # the VPC for the load balancer's health checks and the metrics scrape.
            if self.client_address[0] not in LOOPBACK:
                log("refused /drain from %s" % self.client_address[0])
                self.answer(403, {"error": "/drain is accepted from inside the pod (127.0.0.1) only"})
                return
            self.answer(200, {"drained": drain()})
        elif path == "/metrics":
            data = metrics().encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        else:
            self.answer(404, {"error": "not found"})

    def answer(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt, *a):
        pass


# A native sidecar is stopped only after the WebUI container has exited: nothing left to wait for.
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
threading.Thread(target=watch, daemon=True).start()
log("serving %s on :%d for the WebUI on :%d" % (args.path, args.port, args.app_port))
http.server.ThreadingHTTPServer(("", args.port), Handler).serve_forever()
`;
