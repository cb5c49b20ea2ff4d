"""Benchmark over the 12 MB Kubeflow corpus, one ResourceList as kustomize sends it.

Measures, each as the median of --runs runs of a whole process (read, transform, write):
  - every function with its fn-configs/ functionConfig;
  - `kubeflow-krm fmt`: the same process doing only parse and emit (the baseline);
  - `kubeflow-krm run --config fn-configs`: the whole chain in one process;
  - PyYAML's C round trip (CSafeLoader + CSafeDumper) of the corpus file;
  - `kubectl kustomize` of a folder holding only the corpus (kustomize's own Go round trip);
  - the chain over the corpus repeated 1, 4 and 16 times (renamed copies): time and memory must
    grow linearly.
Prints medians, ratios and peak memory (max RSS of the process). Targets (issue 2): a function
within 1.5x of parse-and-emit and under 0.08x the PyYAML round trip, peak RSS under 12x input.

Usage: python3 bench/bench.py [--runs N] [--corpus PATH] [--bin DIR]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "corpus"))
import harness  # noqa: E402
import yaml  # noqa: E402


def measure(argv, stdin_path=None, cwd=None, env=None):
    """Wall time and peak RSS (bytes) of one process (with `env` added to this process's
    environment). The peak comes from GNU time run as a fresh small process: a child forked from
    this (large) Python process would report the parent's pages in its own maximum RSS."""
    stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
    rss_file = tempfile.mktemp(prefix="kfkrm-rss-")
    start = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss_file] + argv, stdin=stdin,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=cwd,
                          env={**os.environ, **env} if env else None)
    elapsed = time.perf_counter() - start
    if stdin_path:
        stdin.close()
    with open(rss_file) as f:
        rss_kb = int(f.read().strip().splitlines()[-1])
    os.unlink(rss_file)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}: {proc.stderr.decode()[:500]}")
    return elapsed, rss_kb * 1024


def median_of(runs, argv, **kw):
    samples = [measure(argv, **kw) for _ in range(runs)]
    return statistics.median(s[0] for s in samples), max(s[1] for s in samples)


PYYAML_ROUND_TRIP = """
import sys, yaml
docs = list(yaml.load_all(open(sys.argv[1]), Loader=yaml.CSafeLoader))
yaml.dump_all(docs, open('/dev/null', 'w'), Dumper=yaml.CSafeDumper)
"""


def fn_configs():
    """Each function's binary and its per-function functionConfig, in the recommended order."""
    return [(name, yaml.safe_load(open(os.path.join(ROOT, "fn-configs", name + ".yaml"))))
            for name in harness.FUNCTIONS]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--corpus", default=harness.CORPUS)
    ap.add_argument("--bin", default=harness.BIN)
    ap.add_argument("--json", help="also write the figures to this file")
    ap.add_argument("--scale", type=int, nargs="*", default=[1, 4, 16],
                    help="also run the chain over the corpus repeated N times (default 1 4 16)")
    args = ap.parse_args()
    harness.CORPUS = args.corpus
    size = os.path.getsize(args.corpus)
    tmp = tempfile.mkdtemp(prefix="kfkrm-bench-")
    try:
        rows = []
        docs = harness.corpus_docs()
        fmt_input = os.path.join(tmp, "fmt.yaml")
        with open(fmt_input, "w") as f:
            f.write(harness.resource_list_text(docs, {}))
        base_t, base_rss = median_of(args.runs, [os.path.join(args.bin, "kubeflow-krm"), "fmt"], stdin_path=fmt_input)
        rows.append(("parse-and-emit (kubeflow-krm fmt)", base_t, base_rss))
        for binary, config in fn_configs():
            path = os.path.join(tmp, binary + ".yaml")
            with open(path, "w") as f:
                f.write(harness.resource_list_text(docs, config))
            t, rss = median_of(args.runs, [os.path.join(args.bin, binary)], stdin_path=path)
            rows.append((binary, t, rss))
        processes = rows[1:]
        rows.append((f"the {len(processes)} functions as {len(processes)} processes (sum)",
                     sum(r[1] for r in processes), max(r[2] for r in processes)))
        t, rss = median_of(args.runs, [os.path.join(args.bin, "kubeflow-krm"), "run", args.corpus,
                                       "--config", os.path.join(ROOT, "fn-configs")])
        rows.append(("chain in one process (kubeflow-krm run)", t, rss))
        for factor in args.scale:
            path = os.path.join(tmp, f"corpus-x{factor}.yaml")
            harness.write_scaled(factor, path)
            t, rss = median_of(max(1, min(args.runs, 3)), [os.path.join(args.bin, "kubeflow-krm"), "run", path,
                                                           "--config", os.path.join(ROOT, "fn-configs")])
            rows.append((f"chain, corpus x{factor} ({os.path.getsize(path) / 1e6:.0f} MB)", t, rss, os.path.getsize(path)))
        py_t, py_rss = median_of(max(1, min(args.runs, 3)), [sys.executable, "-c", PYYAML_ROUND_TRIP, args.corpus])
        rows.append(("PyYAML C round trip", py_t, py_rss))
        kdir = os.path.join(tmp, "kustomize")
        os.mkdir(kdir)
        shutil.copy(args.corpus, os.path.join(kdir, "corpus.yaml"))
        with open(os.path.join(kdir, "kustomization.yaml"), "w") as f:
            f.write("resources:\n- corpus.yaml\n")
        k_t, k_rss = median_of(max(1, min(args.runs, 3)), ["kubectl", "kustomize", kdir])
        rows.append(("kubectl kustomize (Go round trip)", k_t, k_rss))

        print(f"corpus: {args.corpus} ({size / 1e6:.1f} MB, {len(docs)} documents), median of {args.runs} runs")
        print(f"{'process':<46} {'median s':>9} {'x parse+emit':>13} {'x PyYAML':>9} {'peak MB':>8} {'x input':>8}")
        figures = []
        for name, t, rss, *input_size in rows:
            input_size = input_size[0] if input_size else size
            print(f"{name:<46} {t:>9.3f} {t / base_t:>13.2f} {t / py_t:>9.3f} {rss / 1e6:>8.0f} {rss / input_size:>8.1f}")
            figures.append({"process": name, "seconds": t, "ratio_parse_emit": t / base_t,
                            "ratio_pyyaml": t / py_t, "peak_rss_bytes": rss, "rss_over_input": rss / input_size})
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"corpus_bytes": size, "runs": args.runs, "figures": figures}, f, indent=2)
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
