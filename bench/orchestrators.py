"""The functions as users run them: kustomize (container mode) and kpt over the 12 MB Kubeflow
render, each as a ratio to a peer measured in the same run.

Rows (median of --runs runs, wall time and the orchestrator's peak memory):
  - `kubectl kustomize` of a folder holding only the render: the peer of the kustomize rows;
  - the same with `transformers: [fn-configs]` (the Chain, one container): the recommended
    set-up, target within 4x the peer;
  - the same with the five per-function files as five transformers (five containers);
  - `kpt fn render` of a package holding the render with an empty pipeline: kpt's own read and
    write, the peer of the kpt rows;
  - `kpt fn render` with the Chain in the kubeflow-krm image: target within 2x the plain
    `kustomize build` (and its ratio to kpt's own peer);
  - `kpt fn render` with the five per-function images.

Containers: podman with the images of .ci/build-image (KPT_FN_RUNTIME=podman, kustomize through
tests/e2e/podman/docker); `--stand-in` runs the built binaries instead (tests/e2e/bin/docker,
kpt exec mode), which leaves out the container start (about 0.25 s each).

Usage: python3 bench/orchestrators.py [--runs N] [--corpus PATH] [--stand-in] [--json FILE]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "corpus"))
sys.path.insert(0, os.path.join(ROOT, "bench"))
import harness  # noqa: E402
from bench import measure  # noqa: E402

REGISTRY = "ghcr.io/kubeflow-krm"


def version():
    with open(os.path.join(ROOT, "Cargo.toml")) as f:
        for line in f:
            if line.startswith("version = "):
                return line.split('"')[1]
    raise SystemExit("no version in Cargo.toml")


def median_of(runs, argv, env, cwd=None):
    samples = [measure(argv, cwd=cwd, env=env) for _ in range(runs)]
    return statistics.median(s[0] for s in samples), max(s[1] for s in samples)


def kustomization(tmp, name, corpus, transformers):
    d = os.path.join(tmp, name)
    os.mkdir(d)
    shutil.copy(corpus, os.path.join(d, "kubeflow.yaml"))
    if transformers:
        shutil.copytree(os.path.join(ROOT, "fn-configs"), os.path.join(d, "fn-configs"))
    with open(os.path.join(d, "kustomization.yaml"), "w") as f:
        f.write("resources:\n- kubeflow.yaml\n")
        if transformers:
            f.write("transformers:\n" + "".join(f"- {t}\n" for t in transformers))
    return d


def package(tmp, name, corpus, mutators):
    """A kpt package holding the render; `mutators` is a list of (image or binary, config)."""
    d = os.path.join(tmp, name)
    os.mkdir(d)
    shutil.copy(corpus, os.path.join(d, "kubeflow.yaml"))
    shutil.copytree(os.path.join(ROOT, "fn-configs"), os.path.join(d, "fn-configs"))
    with open(os.path.join(d, "Kptfile"), "w") as f:
        f.write("apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: bench\n"
                "  annotations:\n    config.kubernetes.io/local-config: \"true\"\n")
        if mutators:
            f.write("pipeline:\n  mutators:\n")
            for runner, config in mutators:
                f.write(f"  - {runner}\n    configPath: fn-configs/{config}\n")
    return d


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--corpus", default=harness.CORPUS)
    ap.add_argument("--bin", default=harness.BIN)
    ap.add_argument("--stand-in", action="store_true", help="run the binaries instead of the images")
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args()
    tag = version()
    real = not args.stand_in
    env = {"KFKRM_BIN": args.bin}
    if real:
        env["CONTAINERS_CONF"] = os.environ.get("CONTAINERS_CONF", os.path.join(ROOT, ".ci", "containers.conf"))
        env["KPT_FN_RUNTIME"] = "podman"
        env["PATH"] = os.path.join(ROOT, "tests", "e2e", "podman") + os.pathsep + os.environ["PATH"]
        for image in ["kubeflow-krm"] + harness.FUNCTIONS:
            ref = f"{REGISTRY}/{image}:{tag}"
            if subprocess.run(["podman", "image", "exists", ref], env={**os.environ, **env}).returncode != 0:
                raise SystemExit(f"missing image {ref}: run .ci/build-image (or use --stand-in)")
    else:
        env["PATH"] = os.path.join(ROOT, "tests", "e2e", "bin") + os.pathsep + os.environ["PATH"]

    def runner(name):
        return f"image: {REGISTRY}/{name}:{tag}" if real else f"exec: {os.path.join(args.bin, name)}"

    kpt_flags = ["--image-pull-policy", "never"] if real else ["--allow-exec"]
    tmp = tempfile.mkdtemp(prefix="kfkrm-orch-")
    try:
        per_function = [f"fn-configs/{f}.yaml" for f in harness.FUNCTIONS]
        rows = []
        plain = kustomization(tmp, "plain", args.corpus, [])
        k_t, k_rss = median_of(args.runs, ["kubectl", "kustomize", plain], env)
        rows.append(("kubectl kustomize (no functions)", k_t, k_rss, "kustomize"))
        for name, transformers in [("kustomize, the Chain (1 container)", ["fn-configs"]),
                                   ("kustomize, per-function files (5 containers)", per_function)]:
            d = kustomization(tmp, name.split(",")[1].strip().split()[0].lower(), args.corpus, transformers)
            t, rss = median_of(args.runs, ["kubectl", "kustomize", "--enable-alpha-plugins", d], env)
            rows.append((name, t, rss, "kustomize"))
        packages = [("kpt fn render (empty pipeline)", []),
                    ("kpt fn render, the Chain (1 container)", [(runner("kubeflow-krm"), "kubeflow-krm.yaml")]),
                    ("kpt fn render, per-function (5 containers)", [(runner(f), f"{f}.yaml") for f in harness.FUNCTIONS])]
        kpt_peer = None
        for i, (name, mutators) in enumerate(packages):
            t_all = []
            rss_all = []
            for _ in range(args.runs):
                # render writes in place: a fresh copy per run
                d = package(tmp, f"pkg{i}-{len(t_all)}", args.corpus, mutators)
                t, rss = median_of(1, ["kpt", "fn", "render", d, *kpt_flags], env)
                t_all.append(t)
                rss_all.append(rss)
            t, rss = statistics.median(t_all), max(rss_all)
            if kpt_peer is None:
                kpt_peer = t
            rows.append((name, t, rss, "kpt"))

        size = os.path.getsize(args.corpus)
        print(f"corpus: {args.corpus} ({size / 1e6:.1f} MB), median of {args.runs} runs, "
              f"containers: {'podman, the built images' if real else 'none (stand-in: the binaries)'}")
        print(f"{'process':<48} {'median s':>9} {'x kustomize':>12} {'x kpt peer':>11} {'peak MB':>8}")
        figures = []
        for name, t, rss, kind in rows:
            vs_kpt = f"{t / kpt_peer:>11.2f}" if kind == "kpt" else f"{'':>11}"
            print(f"{name:<48} {t:>9.2f} {t / k_t:>12.2f} {vs_kpt} {rss / 1e6:>8.0f}")
            figures.append({"process": name, "seconds": t, "ratio_kustomize": t / k_t,
                            "ratio_kpt_peer": t / kpt_peer if kind == "kpt" else None, "peak_rss_bytes": rss})
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"corpus_bytes": size, "runs": args.runs, "real_images": real, "figures": figures}, f, indent=2)
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
