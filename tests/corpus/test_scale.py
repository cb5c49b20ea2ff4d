"""A 100 MB input (issue 8): the corpus repeated 9 times, copies renamed to stay unique.

- Through the whole chain (`kubeflow-krm run --config fn-configs`): the output is exactly the
  outputs of the nine copies run one by one (the same documents, byte for byte), so nothing is
  lost or mixed up between objects at this size, and peak memory stays under 12 times the input
  (the bench's figure is about 5.6 times).
- Through a function binary as a ResourceList with a bad functionConfig: exit 1 with the error
  on stderr, and stdout is the whole ResourceList with every item as it came (exactly the items
  `kubeflow-krm fmt` writes for the same input), never a partial output.

Timings are the bench's business (bench/bench.py); nothing here is timed."""
import collections
import os
import subprocess
import sys
import tempfile

import harness

ROOT = harness.ROOT
COPIES = 9
MIB = 1 << 20


def big_stream(tmp):
    path = os.path.join(tmp, "corpus-x9.yaml")
    harness.write_scaled(COPIES, path)
    size = os.path.getsize(path)
    assert size >= 100 * MIB, f"only {size / MIB:.0f} MiB"
    return path, size


# Runs a command and reports its peak RSS. A child of this (large) Python process would inherit
# its memory high-water mark and report it as its own, so a fresh small interpreter forks the
# command and reads the command's own figure (what GNU time does, without needing it).
PEAK_RSS = """import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
sys.stderr.write(f"\\npeak-rss-kib {usage.ru_maxrss}\\n")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def chain(path, peak=None):
    """The chain's output over `path`; with `peak` (a list), appends the process's peak RSS."""
    argv = [os.path.join(harness.BIN, "kubeflow-krm"), "run", path, "--config", os.path.join(ROOT, "fn-configs")]
    if peak is not None:
        argv = [sys.executable, "-c", PEAK_RSS] + argv
    proc = subprocess.run(argv, capture_output=True)
    err = proc.stderr.decode()
    assert proc.returncode == 0, err[-2000:]
    if peak is not None:
        peak.append(int(err.rsplit("peak-rss-kib ", 1)[1]) * 1024)
    return proc.stdout.decode()


def documents(stream):
    # The last document keeps the stream's final newline; the others lose theirs to the split.
    return collections.Counter(d.rstrip("\n") for d in stream.split("\n---\n") if d.strip())


def test_a_100_mb_stream_through_the_chain_is_its_copies_run_one_by_one():
    with tempfile.TemporaryDirectory(prefix="kfkrm-scale-") as tmp:
        path, size = big_stream(tmp)
        peak = []
        whole = documents(chain(path, peak))
        rss = peak[0]
        assert rss < 12 * size, f"peak memory {rss / MIB:.0f} MiB is {rss / size:.1f}x the input"
        # A renamed copy alone has no component the functions know (external-database refuses
        # that), so copy n's output is the output of copies 0 and n less that of copy 0 alone.
        first = os.path.join(tmp, "copy0.yaml")
        harness.write_scaled(COPIES, first, copies=[0])
        alone = documents(chain(first))
        assert any("kind: ExternalSecret" in d for d in alone), "the chain did no work on copy 0"
        expected = collections.Counter(alone)
        for n in range(1, COPIES):
            pair = os.path.join(tmp, f"copy{n}.yaml")
            harness.write_scaled(COPIES, pair, copies=[0, n])
            expected.update(documents(chain(pair)) - alone)
        assert sum(whole.values()) == sum(expected.values()), \
            f"{sum(whole.values())} documents, expected {sum(expected.values())}"
        assert whole == expected, f"{sum((whole - expected).values())} documents differ from the copies' own outputs"


def items_section(text):
    start = text.index("\nitems:\n")
    ends = [i for i in (text.find("\nfunctionConfig:", start), text.find("\nresults:", start)) if i != -1]
    return text[start:min(ends) if ends else len(text)].rstrip("\n")


def test_a_100_mb_resource_list_refused_comes_back_whole():
    with tempfile.TemporaryDirectory(prefix="kfkrm-scale-") as tmp:
        path, _ = big_stream(tmp)
        docs = open(path, encoding="utf-8").read().split("\n---\n")
        rl_path = os.path.join(tmp, "rl.yaml")
        with open(rl_path, "w", encoding="utf-8") as f:
            f.write(harness.resource_list_text([d for d in docs if d.strip()], {
                "apiVersion": "fn.kubeflow-krm.dev/v1alpha1", "kind": "IstioInjection",
                "metadata": {"name": "bad"}, "mode": "sideways"}))
        with open(rl_path, "rb") as stdin:
            refused = subprocess.run([os.path.join(harness.BIN, "istio-injection")], stdin=stdin, capture_output=True)
        assert refused.returncode == 1, refused.stderr.decode()[-2000:]
        assert "mode" in refused.stderr.decode() and "sideways" in refused.stderr.decode(), refused.stderr.decode()[-2000:]
        with open(rl_path, "rb") as stdin:
            fmt = subprocess.run([os.path.join(harness.BIN, "kubeflow-krm"), "fmt"], stdin=stdin, capture_output=True)
        assert fmt.returncode == 0, fmt.stderr.decode()[-2000:]
        out, same = refused.stdout.decode(), fmt.stdout.decode()
        assert items_section(out) == items_section(same), "the refused ResourceList's items are not the input's"
        assert out.count("\n- apiVersion: ") >= COPIES * 600, "items are missing"
        assert "results:" in out and "severity: error" in out


if __name__ == "__main__":
    raise SystemExit(harness.main(globals()))
