#!/usr/bin/python3
"""Run the `plexus bench` workloads on PyTorch and on Plexus, side by side.

The five workloads (W1-W5) are defined in tools/bench/README.md. For every
thread count and workload this script alternates PyTorch runs and
`plexus bench` runs (rounds of: each PyTorch configuration, then Plexus), takes
the median of each run's timed repeats, and reports the median over the rounds
for each side together with the ratio

    throughput workloads (steps/s):  ratio = Plexus steps/s / PyTorch steps/s
    latency workload     (us/call):  ratio = PyTorch us/call / Plexus us/call

so a ratio above 1 means Plexus is faster.

At one thread, each round pins both sides to the same CPU (the usable CPUs
in turn, round by round; --pin none turns this off). The logical CPUs of a
VM need not be equal: on the project's machine, with identical code, one
CPU ran W3 at 388k Plexus steps/s and 17.7k PyTorch steps/s while the other
ran it at 242k and 8.8k; unpinned, the two sides could land on different
CPUs and the ratio measured the CPUs rather than the frameworks. At more than
one thread both sides use every CPU and nothing is pinned.

PyTorch gets its best configuration: for each workload several configurations
(OPENBLAS_NUM_THREADS=1 or =threads; at more than one thread OpenMP's default
or PASSIVE wait policy; for LeNet also channels_last or plain memory format) run in every round, and the fastest by median is reported in
`torch_config`. Environment variables must be set before torch is imported,
so each configuration lives in its own worker process (this script re-invoked
with --torch-worker) that stays alive across the rounds and times a run
whenever the parent asks.

PyTorch is Debian's python3-torch (1.13) and runs under /usr/bin/python3
(--python overrides). It uses the system libblas.so.3 chosen by
update-alternatives; the script refuses to run on the slow reference BLAS
unless --allow-reference-blas is given.

Examples:
    tools/bench/compare_torch.py                       # 1 and 2 threads, all workloads
    tools/bench/compare_torch.py --quick --skip-plexus # torch only smoke run
    tools/bench/compare_torch.py --threads 2 --workload mlp,lenet --json
    tools/bench/compare_torch.py --plexus /path/to/plexus --rounds 5

Only the standard library is used by the parent; workers import torch.
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time

# --------------------------------------------------------------------------
# Workload table. `steps` is how many steps (or calls) one timed repeat
# spans; it is chosen so a repeat takes roughly 0.2 s with PyTorch on a
# current x86 core. --quick divides it by QUICK_STEP_DIVISOR.
# --------------------------------------------------------------------------

THROUGHPUT = "steps/s"
LATENCY = "us/call"

WORKLOADS = {
    "mlp": {"unit": THROUGHPUT, "steps": 50,
            "what": "W1 MLP 784-256-256-10, batch 128, SGD momentum"},
    "lenet": {"unit": THROUGHPUT, "steps": 25,
              "what": "W2 LeNet-5, batch 64, Adam"},
    "logreg": {"unit": THROUGHPUT, "steps": 500,
               "what": "W3 logistic regression 30 -> 1, batch 32, SGD"},
    "lista": {"unit": THROUGHPUT, "steps": 6,
              "what": "W4 LISTA T=16, batch 256, Adam"},
    "mlp_infer1": {"unit": LATENCY, "steps": 1000,
                   "what": "W5 W1 MLP inference at batch 1"},
}

QUICK_STEP_DIVISOR = 5

# The update-alternatives link through which Debian's torch loads its BLAS.
BLAS_LINK = "/usr/lib/x86_64-linux-gnu/libblas.so.3"
BLAS_ALTERNATIVE = "libblas.so.3-x86_64-linux-gnu"
OPENBLAS_INSTALL = "apt-get install -y libopenblas0-pthread"

# Lines of the parent/worker protocol on the worker's stdout carry this prefix
# so that anything else a library might print there is ignored.
PROTOCOL_PREFIX = "@@compare_torch "

DEFAULT_PYTHON = "/usr/bin/python3"


# ==========================================================================
# Small helpers shared by parent and worker
# ==========================================================================

def better(unit, a, b):
    """True if value `a` is better than `b` in `unit` (higher steps/s, lower us/call)."""
    return a > b if unit == THROUGHPUT else a < b


def summarize(values):
    """Median, min and max of a list of numbers."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def classify_blas(path):
    """Name the BLAS implementation a shared-library path belongs to."""
    low = path.lower()
    if "openblas" in low:
        return "OpenBLAS"
    if "blis" in low:
        return "BLIS"
    if "mkl" in low:
        return "MKL"
    if "atlas" in low:
        return "ATLAS"
    if "/blas/libblas.so" in low:
        return "reference BLAS (libblas3)"
    return "unknown"


# ==========================================================================
# Worker side: builds one workload in torch and times runs on request.
# ==========================================================================

def build_workload(torch, name, channels_last):
    """Return a zero-argument callable doing one step (or one call) of `name`.

    All data are synthetic, seeded, of fixed shapes, and reused every step.
    """
    nn = torch.nn
    F = torch.nn.functional
    torch.manual_seed(0)

    def mlp():
        return nn.Sequential(nn.Linear(784, 256), nn.ReLU(),
                             nn.Linear(256, 256), nn.ReLU(),
                             nn.Linear(256, 10))

    def train_step(model, opt, loss_fn):
        # One training step as in the brief: zero_grad + forward + backward + step.
        def step():
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model)
            loss.backward()
            opt.step()
        return step

    if name == "mlp":
        model = mlp()
        x = torch.randn(128, 784)
        y = torch.randint(0, 10, (128,))
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        return train_step(model, opt, lambda m: F.cross_entropy(m(x), y))

    if name == "lenet":
        model = nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
            nn.Linear(120, 84), nn.ReLU(),
            nn.Linear(84, 10))
        x = torch.randn(64, 1, 28, 28)
        y = torch.randint(0, 10, (64,))
        if channels_last:
            model = model.to(memory_format=torch.channels_last)
            x = x.contiguous(memory_format=torch.channels_last)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        return train_step(model, opt, lambda m: F.cross_entropy(m(x), y))

    if name == "logreg":
        model = nn.Linear(30, 1)
        x = torch.randn(32, 30)
        y = torch.randint(0, 2, (32,)).float() * 2 - 1   # labels in {-1, +1}
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        # log(1 + exp(-y s)) == softplus(-y s)
        return train_step(model, opt,
                          lambda m: F.softplus(-y * m(x).squeeze(1)).mean())

    if name == "lista":
        n_in, n_code, depth, batch = 64, 256, 16, 256

        class Lista(nn.Module):
            """LISTA unrolled `depth` times, S and theta shared across layers."""

            def __init__(self):
                super().__init__()
                self.W_e = nn.Parameter(torch.randn(n_code, n_in) / n_in ** 0.5)
                self.S = nn.Parameter(torch.randn(n_code, n_code) * (0.5 / n_code ** 0.5))
                self.theta = nn.Parameter(torch.full((n_code,), 0.1))

            def shrink(self, v):
                return torch.sign(v) * torch.relu(v.abs() - self.theta)

            def forward(self, x):
                b = x @ self.W_e.t()
                z = self.shrink(b)
                for _ in range(depth):
                    z = self.shrink(b + z @ self.S.t())
                return z

        model = Lista()
        x = torch.randn(batch, n_in)
        z_star = torch.randn(batch, n_code)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        # 0.5 ||z - z*||^2 summed over units, averaged over the batch
        return train_step(model, opt,
                          lambda m: 0.5 * (m(x) - z_star).pow(2).sum(1).mean())

    if name == "mlp_infer1":
        model = mlp().eval()
        x = torch.randn(1, 784)

        def call():
            model(x)
        return call

    raise ValueError("unknown workload %r" % name)


def loaded_blas_libraries():
    """Shared libraries mapped into this process that look like a BLAS."""
    found = []
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                parts = line.split()
                path = parts[-1] if len(parts) >= 6 else ""
                base = os.path.basename(path).lower()
                if path.startswith("/") and ("blas" in base or "blis" in base or "mkl_" in base):
                    if path not in found:
                        found.append(path)
    except OSError:
        pass
    return found


def worker_main(args):
    """Worker process: import torch under the environment set by the parent,
    build the workload, then answer "run" requests on stdin with one timed
    run each (a JSON line on stdout) until "quit" or end of input."""
    import torch  # imported here: the parent set OPENBLAS_NUM_THREADS etc. first

    torch.set_num_threads(args.threads)
    name = args.workload
    unit = WORKLOADS[name]["unit"]
    step = build_workload(torch, name, args.channels_last)
    steps = args.steps

    def timed_run(warmup_steps):
        """Warm up, then time `repeats` chunks of `steps` steps each."""
        values = []
        for _ in range(warmup_steps):
            step()
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            for _ in range(steps):
                step()
            dt = time.perf_counter() - t0
            values.append(steps / dt if unit == THROUGHPUT else dt / steps * 1e6)
        result = summarize(values)
        result.update({"unit": unit, "repeats": args.repeats, "steps": steps})
        return result

    # The inference workload runs entirely under inference_mode (no autograd).
    usable_cpus = os.sched_getaffinity(0)
    mode = torch.inference_mode() if name == "mlp_infer1" else torch.enable_grad()
    with mode:
        # First warm-up: one-off costs (allocator, oneDNN primitive creation).
        for _ in range(2 * steps):
            step()
        emit({"ready": True, "torch": torch.__version__,
              "num_threads": torch.get_num_threads(),
              "blas_loaded": loaded_blas_libraries()})
        for line in sys.stdin:
            command = line.strip()
            if command.startswith("run"):
                # "run" or "run cpu=N": the calling thread (torch's only
                # compute thread at one thread) moves to CPU N, or back to
                # every CPU the process may use.
                cpu = command.partition("cpu=")[2]
                os.sched_setaffinity(0, {int(cpu)} if cpu else usable_cpus)
                emit(timed_run(warmup_steps=max(1, steps // 2)))
            elif command == "quit":
                break
    return 0


def emit(obj):
    """Send one protocol message to the parent."""
    sys.stdout.write(PROTOCOL_PREFIX + json.dumps(obj) + "\n")
    sys.stdout.flush()


# ==========================================================================
# Parent side
# ==========================================================================

class TorchConfig:
    """One PyTorch configuration: environment and options for a worker."""

    def __init__(self, threads, openblas_threads, passive_wait, channels_last, workload):
        self.threads = threads
        self.openblas_threads = openblas_threads
        self.passive_wait = passive_wait      # OMP_WAIT_POLICY=PASSIVE, else libgomp's default
        self.channels_last = channels_last
        self.workload = workload

    def env(self):
        env = dict(os.environ)
        env["OMP_NUM_THREADS"] = str(self.threads)
        env["OPENBLAS_NUM_THREADS"] = str(self.openblas_threads)
        env["MKL_NUM_THREADS"] = str(self.threads)
        # The default policy means unset (spin a while, then sleep); drop any
        # inherited setting so the label tells the whole story.
        env.pop("GOMP_SPINCOUNT", None)
        if self.passive_wait:
            env["OMP_WAIT_POLICY"] = "PASSIVE"
        else:
            env.pop("OMP_WAIT_POLICY", None)
        return env

    def label(self):
        parts = ["threads=%d" % self.threads,
                 "OPENBLAS_NUM_THREADS=%d" % self.openblas_threads]
        if self.passive_wait:
            parts.append("OMP_WAIT_POLICY=PASSIVE")
        if self.workload == "lenet":
            parts.append("channels_last" if self.channels_last else "contiguous")
        if self.workload == "mlp_infer1":
            parts.append("inference_mode")
        return ", ".join(parts)


def torch_configs(workload, threads, wait_policy="try"):
    """The candidate PyTorch configurations tried for a workload.

    OpenBLAS is pinned to one thread or to `threads` threads (left alone it
    would use every core even at torch threads=1). With more than one thread,
    libgomp's default wait policy (spin, then sleep) and OMP_WAIT_POLICY=PASSIVE
    are both tried unless `wait_policy` fixes one: spinning is best on an idle
    machine, but when other processes compete for the cores a spinning team
    waits a whole time slice for a descheduled member at every barrier and
    passive waiting is several times faster. LeNet also tries channels_last
    against the plain contiguous layout."""
    blas_threads = sorted({1, threads})
    if threads == 1 or wait_policy == "default":
        passive = [False]
    elif wait_policy == "passive":
        passive = [True]
    else:
        passive = [False, True]
    layouts = [True, False] if workload == "lenet" else [False]
    return [TorchConfig(threads, b, pw, cl, workload)
            for b in blas_threads for pw in passive for cl in layouts]


class TorchWorker:
    """A live worker process for one configuration."""

    def __init__(self, config, args):
        self.config = config
        steps = WORKLOADS[config.workload]["steps"]
        if args.quick:
            steps = max(1, steps // QUICK_STEP_DIVISOR)
        cmd = [args.python, os.path.abspath(__file__), "--torch-worker",
               "--workload", config.workload, "--threads", str(config.threads),
               "--repeats", str(args.repeats), "--steps", str(steps)]
        if config.channels_last:
            cmd.append("--channels-last")
        # stderr is inherited so torch warnings and tracebacks stay visible.
        self.proc = subprocess.Popen(cmd, env=config.env(), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, bufsize=1)
        self.info = self._receive()

    def _receive(self):
        for line in self.proc.stdout:
            if line.startswith(PROTOCOL_PREFIX):
                return json.loads(line[len(PROTOCOL_PREFIX):])
        raise RuntimeError("torch worker (%s) exited with code %s"
                           % (self.config.label(), self.proc.wait()))

    def run(self, cpu=None):
        """One timed run, on CPU `cpu` if given; returns {"median", "min",
        "max", "unit", ...}."""
        self.proc.stdin.write("run\n" if cpu is None else "run cpu=%d\n" % cpu)
        self.proc.stdin.flush()
        return self._receive()

    def close(self):
        try:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class PlexusError(RuntimeError):
    pass


def run_plexus(args, workload, threads, cpu=None):
    """Run `plexus bench` once for one workload and thread count (on CPU
    `cpu` only, if given) and return its JSON record (README format:
    "median" in the workload's unit)."""
    cmd = [args.plexus, "bench", "--json", "--threads", str(threads),
           "--workload", workload] + args.plexus_arg
    pin = None if cpu is None else (lambda: os.sched_setaffinity(0, {cpu}))
    try:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, timeout=args.plexus_timeout, preexec_fn=pin)
    except subprocess.TimeoutExpired:
        raise PlexusError("%s timed out after %ss" % (" ".join(cmd), args.plexus_timeout))
    except OSError as e:
        raise PlexusError("cannot run %s: %s" % (args.plexus, e))
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-10:])
        raise PlexusError("%s exited with code %d\n%s" % (" ".join(cmd), proc.returncode, tail))
    return parse_plexus_output(proc.stdout, workload, threads)


def parse_plexus_output(text, workload, threads):
    """Find the JSON line for `workload` at `threads` in `plexus bench --json`
    output; other lines (logs, other workloads) are skipped."""
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("workload") != workload:
            continue
        if "threads" in record and record["threads"] != threads:
            continue
        expected = WORKLOADS[workload]["unit"]
        if record.get("unit") != expected:
            raise PlexusError("plexus reports %s in %r, expected %r"
                              % (workload, record.get("unit"), expected))
        if not isinstance(record.get("median"), (int, float)):
            raise PlexusError("plexus record for %s has no numeric median: %s" % (workload, line))
        return record
    raise PlexusError("no JSON line for workload %r threads %d in plexus output:\n%s"
                      % (workload, threads, text[-2000:]))


def aggregate(runs):
    """Combine runs: median of the runs' medians; min/max over all repeats,
    as numbers (for steps/s the min is the slowest, for us/call the fastest)."""
    lows = [min(r["min"], r["max"]) for r in runs]
    highs = [max(r["min"], r["max"]) for r in runs]
    return {"median": statistics.median(r["median"] for r in runs),
            "min": min(lows), "max": max(highs), "runs": len(runs)}


def round_cpus(args, threads):
    """The CPU each round pins both sides to, or None per round (unpinned)."""
    cpus = sorted(os.sched_getaffinity(0))
    if args.pin == "none" or threads != 1 or len(cpus) < 2:
        return [None] * args.rounds
    return [cpus[rnd % len(cpus)] for rnd in range(args.rounds)]


def compare_one(args, workload, threads, log):
    """Interleaved rounds for one workload and thread count.

    Each round runs every PyTorch configuration (rotated, so none always
    goes first) and then Plexus, all on the round's CPU at one thread
    (round_cpus). Returns a result row."""
    unit = WORKLOADS[workload]["unit"]
    configs = torch_configs(workload, threads, args.omp_wait_policy)
    workers = []
    try:
        for config in configs:
            log("  starting torch worker: %s" % config.label())
            workers.append(TorchWorker(config, args))
        torch_runs = {id(w): [] for w in workers}
        plexus_runs = []
        plexus_error = None
        for rnd, cpu in enumerate(round_cpus(args, threads)):
            where = "" if cpu is None else " cpu %d" % cpu
            shift = rnd % len(workers)
            for worker in workers[shift:] + workers[:shift]:
                result = worker.run(cpu)
                torch_runs[id(worker)].append(result)
                log("  round %d%s torch  %-72s %10.2f %s"
                    % (rnd + 1, where, worker.config.label(), result["median"], unit))
            if not args.skip_plexus and plexus_error is None:
                try:
                    result = run_plexus(args, workload, threads, cpu)
                    plexus_runs.append(result)
                    log("  round %d%s plexus %-72s %10.2f %s"
                        % (rnd + 1, where, "", result["median"], unit))
                except PlexusError as e:
                    plexus_error = str(e)
                    log("  plexus FAILED: %s" % e)
        blas_seen = sorted({p for w in workers for p in w.info.get("blas_loaded", [])})
    finally:
        for worker in workers:
            worker.close()

    # Pick PyTorch's best configuration by its median over the rounds.
    candidates = [(w.config, aggregate(torch_runs[id(w)])) for w in workers]
    best_config, best = candidates[0]
    for config, agg in candidates[1:]:
        if better(unit, agg["median"], best["median"]):
            best_config, best = config, agg

    plexus = aggregate(plexus_runs) if plexus_runs else None
    ratio = None
    if plexus is not None and plexus["median"] > 0 and best["median"] > 0:
        if unit == THROUGHPUT:
            ratio = plexus["median"] / best["median"]
        else:
            ratio = best["median"] / plexus["median"]
    return {"workload": workload, "threads": threads, "unit": unit,
            "plexus": plexus, "torch": best, "ratio": ratio,
            "torch_config": best_config.label(),
            "candidates": [(c.label(), a) for c, a in candidates],
            "plexus_error": plexus_error, "blas_loaded": blas_seen,
            "load": load_average()}


# --------------------------------------------------------------------------
# Environment reporting
# --------------------------------------------------------------------------

def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def blas_in_use():
    """(path, kind) of the library the libblas.so.3 alternatives link names."""
    if not os.path.exists(BLAS_LINK):
        return None, "missing"
    path = os.path.realpath(BLAS_LINK)
    return path, classify_blas(path)


def torch_version(python):
    """Torch version without importing torch in this process (it is slow and
    would ignore the per-configuration environment)."""
    try:
        out = subprocess.run([python, "-c", "import torch; print(torch.__version__)"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             timeout=120)
        return out.stdout.strip() or "unavailable (%s)" % out.stderr.strip().splitlines()[-1:]
    except (OSError, subprocess.TimeoutExpired) as e:
        return "unavailable (%s)" % e


def load_average():
    try:
        return "%.2f %.2f %.2f" % os.getloadavg()
    except OSError:
        return "unknown"


# --------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------

def fmt_value(agg):
    """'median [min-max]' with a precision suited to the magnitude."""
    if agg is None:
        return "-"

    def f(v):
        return "%.0f" % v if v >= 1000 else ("%.1f" % v if v >= 10 else "%.3f" % v)
    return "%s [%s-%s]" % (f(agg["median"]), f(agg["min"]), f(agg["max"]))


def print_table(rows, out):
    header = ["workload", "threads", "plexus", "torch", "unit", "ratio", "torch_config"]
    body = [[r["workload"], str(r["threads"]), fmt_value(r["plexus"]), fmt_value(r["torch"]),
             r["unit"], "-" if r["ratio"] is None else "%.2f" % r["ratio"], r["torch_config"]]
            for r in rows]
    widths = [max(len(x) for x in col) for col in zip(header, *body)]
    for line in [header, ["-" * w for w in widths]] + body:
        out.write("  ".join(x.ljust(w) for x, w in zip(line, widths)).rstrip() + "\n")
    out.write("values: median over rounds [min-max over all timed repeats]; "
              "ratio > 1: Plexus faster\n")


def print_candidates(rows, out):
    """Every PyTorch configuration tried, so the choice is visible."""
    out.write("\nPyTorch configurations tried (median over rounds; * = reported):\n")
    for r in rows:
        out.write("   %s at %d thread(s), load average %s after it:\n"
                  % (r["workload"], r["threads"], r["load"]))
        for label, agg in r["candidates"]:
            mark = "*" if label == r["torch_config"] else " "
            extra = ""
            if r["unit"] == THROUGHPUT:
                extra = "  (%.3f ms/step)" % (1000.0 / agg["median"])
            out.write(" %s %-11s %-72s %s %s%s\n"
                      % (mark, r["workload"], label, fmt_value(agg), r["unit"], extra))


def json_row(r):
    """The JSON line for one row, exactly the documented keys."""
    def num(v):
        return None if v is None else round(v, 4)
    return json.dumps({"workload": r["workload"], "threads": r["threads"],
                       "plexus": num(r["plexus"]["median"]) if r["plexus"] else None,
                       "torch": num(r["torch"]["median"]), "unit": r["unit"],
                       "ratio": num(r["ratio"]), "torch_config": r["torch_config"]})


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------

def parse_list(text, convert, allowed=None, what="value"):
    items = [convert(x.strip()) for x in text.split(",") if x.strip()]
    if not items:
        raise argparse.ArgumentTypeError("empty %s list" % what)
    if allowed is not None:
        bad = [x for x in items if x not in allowed]
        if bad:
            raise argparse.ArgumentTypeError("unknown %s %s (choose from %s)"
                                             % (what, ", ".join(map(str, bad)),
                                                ", ".join(allowed)))
    return items


def parse_args(argv):
    repo_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    p = argparse.ArgumentParser(
        description="Compare `plexus bench` with PyTorch on the tools/bench workloads.",
        epilog="ratio = Plexus throughput / PyTorch throughput "
               "(mlp_infer1: PyTorch latency / Plexus latency); > 1 means Plexus is faster.")
    p.add_argument("--threads", default=[1, 2], metavar="N[,N...]",
                   type=lambda s: parse_list(s, int, what="thread count"),
                   help="thread counts to compare (default 1,2)")
    p.add_argument("--workload", default=list(WORKLOADS), metavar="NAME[,NAME...]",
                   type=lambda s: parse_list(s, str, WORKLOADS, "workload"),
                   help="workloads to run (default all: %s)" % ",".join(WORKLOADS))
    p.add_argument("--rounds", type=int, default=None,
                   help="interleaved rounds per side (default 3, --quick 1)")
    p.add_argument("--repeats", type=int, default=None,
                   help="timed repeats per torch run (default 7, --quick 3)")
    p.add_argument("--quick", action="store_true",
                   help="fast smoke run: 1 round, 3 repeats, 1/%d of the steps"
                   % QUICK_STEP_DIVISOR)
    p.add_argument("--json", action="store_true",
                   help="print one JSON object per workload and thread count on stdout "
                        "(everything else goes to stderr)")
    p.add_argument("--plexus", default=os.path.join(repo_root, "build", "bin", "plexus"),
                   help="plexus binary (default: build/bin/plexus in the repository)")
    p.add_argument("--plexus-arg", action="append", default=[], metavar="ARG",
                   help="extra argument for `plexus bench` (repeatable)")
    p.add_argument("--plexus-timeout", type=float, default=900,
                   help="seconds before one plexus run is abandoned (default 900)")
    p.add_argument("--skip-plexus", action="store_true",
                   help="run PyTorch only; plexus and ratio columns show '-'")
    p.add_argument("--omp-wait-policy", choices=["try", "default", "passive"], default="try",
                   help="torch's OpenMP wait policy at more than one thread: try libgomp's "
                        "default and PASSIVE and keep the faster (default), or only one")
    p.add_argument("--pin", choices=["alternate", "none"], default="alternate",
                   help="at one thread, pin both sides of each round to the same CPU, "
                        "the usable CPUs in turn (default), or pin nothing")
    p.add_argument("--python", default=DEFAULT_PYTHON,
                   help="python with torch for the workers (default %s)" % DEFAULT_PYTHON)
    p.add_argument("--allow-reference-blas", action="store_true",
                   help="run even if torch would use the slow reference BLAS")
    # Internal: worker mode, started by the parent with the environment set.
    p.add_argument("--torch-worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--steps", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--channels-last", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.rounds is None:
        args.rounds = 1 if args.quick else 3
    if args.repeats is None:
        args.repeats = 3 if args.quick else 7
    if args.rounds < 1 or args.repeats < 1 or min(args.threads) < 1:
        p.error("--rounds, --repeats and --threads must be at least 1")
    return args


def main(argv):
    args = parse_args(argv)
    if args.torch_worker:
        args.workload = args.workload[0]
        args.threads = args.threads[0]
        return worker_main(args)

    # Human-readable output goes to stdout, unless stdout carries JSON lines.
    out = sys.stderr if args.json else sys.stdout

    def log(msg):
        sys.stderr.write(msg + "\n")
        sys.stderr.flush()

    # BLAS check before anything slow.
    blas_path, blas_kind = blas_in_use()
    if blas_kind.startswith("reference") and not args.allow_reference_blas:
        sys.stderr.write(
            "error: torch would use the reference BLAS (%s -> %s), which is far slower\n"
            "than a tuned BLAS and would make the comparison meaningless. Install OpenBLAS:\n"
            "    %s\n"
            "check with `update-alternatives --display %s`, or pass --allow-reference-blas.\n"
            % (BLAS_LINK, blas_path, OPENBLAS_INSTALL, BLAS_ALTERNATIVE))
        return 2
    if not args.skip_plexus and not os.access(args.plexus, os.X_OK):
        sys.stderr.write("error: plexus binary %s not found or not executable; build it, "
                         "pass --plexus PATH, or use --skip-plexus\n" % args.plexus)
        return 2

    out.write("date:    %s\n" % datetime.datetime.now().astimezone().isoformat(timespec="seconds"))
    out.write("machine: %s, %d logical CPUs (%d usable), %s\n"
              % (cpu_model(), os.cpu_count() or 0, len(os.sched_getaffinity(0)),
                 platform.platform()))
    out.write("torch:   %s (%s)\n" % (torch_version(args.python), args.python))
    out.write("BLAS:    %s (%s -> %s)\n" % (blas_kind, BLAS_LINK, blas_path))
    out.write("plexus:  %s\n" % ("skipped" if args.skip_plexus else args.plexus))
    out.write("load:    %s at start\n" % load_average())
    out.write("runs:    %d rounds, %d timed repeats per torch run%s\n"
              % (args.rounds, args.repeats, ", quick" if args.quick else ""))
    pinned = [c for c in round_cpus(args, 1) if c is not None]
    out.write("pinning: %s\n\n" % (
        "at 1 thread both sides of a round on one CPU; rounds on CPU %s"
        % ", ".join(map(str, pinned)) if pinned else "none"))
    out.flush()

    rows = []
    for threads in args.threads:
        for workload in args.workload:
            log("%s at %d thread(s): %s" % (workload, threads, WORKLOADS[workload]["what"]))
            try:
                row = compare_one(args, workload, threads, log)
            except RuntimeError as e:  # a torch worker died; its traceback is above
                sys.stderr.write("error: %s\n" % e)
                return 1
            rows.append(row)
            if args.json:
                sys.stdout.write(json_row(row) + "\n")
                sys.stdout.flush()

    loaded = sorted({p for r in rows for p in r["blas_loaded"]})
    out.write("\nBLAS mapped in torch workers: %s\n\n" % (", ".join(loaded) or "none found"))
    print_table(rows, out)
    print_candidates(rows, out)
    failures = [r for r in rows if r["plexus_error"]]
    for r in failures:
        out.write("\nplexus failed for %s at %d threads: %s\n"
                  % (r["workload"], r["threads"], r["plexus_error"]))
    out.write("\nload:    %s at end\n" % load_average())
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
