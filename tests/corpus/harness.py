"""Corpus test harness: runs a function binary over the real Kubeflow render, as kustomize would
(one ResourceList on stdin), and compares input and output the way Kubernetes tools read YAML:
PyYAML's C loader (YAML 1.1), types compared strictly (True is not 1), key order included.

Every run is repeated on its own output: the second run must change nothing (idempotence).

Environment:
  KFKRM_CORPUS  the render (default: ../shared/corpus/kubeflow-master.yaml beside the repo)
  KFKRM_BIN     the folder of the built binaries (default: target/release)
"""
import json
import os
import subprocess
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.environ.get("KFKRM_CORPUS", os.path.join(ROOT, "..", "shared", "corpus", "kubeflow-master.yaml"))
BIN = os.environ.get("KFKRM_BIN", os.path.join(ROOT, "target", "release"))
LOADER = yaml.CSafeLoader
# The functions in the recommended order: each has a binary and fn-configs/<name>.yaml (the
# sections of fn-configs/kubeflow-krm.yaml, the Chain).
FUNCTIONS = ["centralize-credentials", "external-database", "external-object-store", "external-identity-provider", "istio-injection",
             "add-request-authentication"]

_cache = {}


def corpus_docs():
    """The corpus split into document texts (separator lines are `---` at column 0)."""
    if "docs" not in _cache:
        with open(CORPUS, encoding="utf-8") as f:
            text = f.read()
        docs, current = [], []
        for line in text.split("\n"):
            if line == "---":
                docs.append("\n".join(current))
                current = []
            else:
                current.append(line)
        docs.append("\n".join(current))
        _cache["docs"] = [d for d in docs if d.strip()]
    return _cache["docs"]


def renamed_copy(doc, n):
    """Copy `n` of a corpus document: every metadata name and namespace prefixed `copyN-` (copy 0
    is the document itself), so that copies of the corpus can stand side by side."""
    if not n:
        return doc
    return doc.replace("\n  name: ", f"\n  name: copy{n}-").replace("\n  namespace: ", f"\n  namespace: copy{n}-")


def write_scaled(factor, path, copies=None):
    """Writes the corpus repeated `factor` times as one stream (copies renamed, see
    `renamed_copy`), or only the copies numbered in `copies`."""
    with open(path, "w", encoding="utf-8") as f:
        for n in range(factor) if copies is None else copies:
            for doc in corpus_docs():
                f.write(renamed_copy(doc, n).rstrip("\n") + "\n---\n")


def corpus_items():
    """The corpus read with PyYAML, one object per document."""
    if "items" not in _cache:
        _cache["items"] = [yaml.load(d, Loader=LOADER) for d in corpus_docs()]
    return _cache["items"]


def resource_list_text(doc_texts, function_config):
    """A ResourceList around document texts, built as text so the documents' own styles reach the
    function unchanged (a PyYAML re-dump would restyle them)."""
    out = ["apiVersion: config.kubernetes.io/v1", "kind: ResourceList",
           "functionConfig: " + json.dumps(function_config), "items:"]
    for doc in doc_texts:
        lines = doc.rstrip("\n").split("\n")
        out.append("- " + lines[0])
        out.extend(("  " + l) if l else "" for l in lines[1:])
    return "\n".join(out) + "\n"


def identity(item):
    api = item.get("apiVersion", "")
    group = api.rsplit("/", 1)[0] if "/" in api else ""
    md = item.get("metadata") or {}
    return (group, item.get("kind"), md.get("namespace"), md.get("name"))


def first_difference(a, b, path="$"):
    """None if a and b are equal under strict typing and key order, else where they differ."""
    if type(a) is not type(b):
        return f"{path}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, dict):
        if list(a.keys()) != list(b.keys()):
            return f"{path}: keys {list(a.keys())} != {list(b.keys())}"
        for k in a:
            d = first_difference(a[k], b[k], f"{path}.{k}")
            if d:
                return d
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} entries != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            d = first_difference(x, y, f"{path}[{i}]")
            if d:
                return d
        return None
    return None if a == b else f"{path}: values differ"


class Run:
    """One function run over the corpus: items before and after, results and stderr."""

    def __init__(self, before, after, results, stderr, output_text):
        self.before, self.after, self.results, self.stderr = before, after, results, stderr
        self.output_text = output_text
        self.before_by_id = {identity(i): i for i in before}
        self.after_by_id = {identity(i): i for i in after}

    @property
    def changed(self):
        return sorted((k for k, v in self.after_by_id.items()
                       if k in self.before_by_id and first_difference(self.before_by_id[k], v)),
                      key=str)

    @property
    def added(self):
        return sorted((k for k in self.after_by_id if k not in self.before_by_id), key=str)

    @property
    def removed(self):
        return sorted((k for k in self.before_by_id if k not in self.after_by_id), key=str)

    def results_of(self, severity):
        return [r for r in self.results if r.get("severity") == severity]

    def item(self, kind, name, after=True):
        pool = self.after if after else self.before
        found = [i for i in pool if i.get("kind") == kind and (i.get("metadata") or {}).get("name") == name]
        assert len(found) == 1, f"{kind} {name}: {len(found)} found"
        return found[0]


def _run_binary(binary, text):
    path = os.path.join(BIN, binary)
    proc = subprocess.run([path], input=text.encode(), capture_output=True)
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode()


def run_function(binary, function_config, docs=None):
    """Runs `binary` over the corpus (or the given document texts) and again over its output.

    Asserts: exit 0, no error result, every item the function did not change is equal to the
    input (strict YAML 1.1 equality), and the second run changes nothing."""
    docs = corpus_docs() if docs is None else docs
    before = corpus_items() if docs is corpus_docs() else [yaml.load(d, Loader=LOADER) for d in docs]
    code, out, err = _run_binary(binary, resource_list_text(docs, function_config))
    assert code == 0, f"{binary} exited {code}: {err[:2000]}"
    rl = yaml.load(out, Loader=LOADER)
    results = rl.get("results") or []
    errors = [r for r in results if r.get("severity") == "error"]
    assert not errors, f"{binary} reported errors: {errors[:5]}"
    run = Run(before, rl.get("items") or [], results, err, out)
    assert len(run.after_by_id) == len(run.after), f"{binary}: duplicate identities in the output"

    code2, out2, err2 = _run_binary(binary, out)
    assert code2 == 0, f"{binary} second run exited {code2}: {err2[:2000]}"
    again = yaml.load(out2, Loader=LOADER).get("items") or []
    diff = first_difference(run.after, again)
    assert diff is None, f"{binary} is not idempotent on the corpus: {diff}"
    return run


def assert_only(run, changed=(), added=(), removed=()):
    """Asserts exactly these identities changed/were added/were removed (as sets of predicates)."""
    def check(actual, allowed, what):
        bad = [i for i in actual if not any(p(i) for p in allowed)]
        assert not bad, f"unexpected {what}: {bad[:10]}"
    check(run.changed, changed, "changed items")
    check(run.added, added, "added items")
    check(run.removed, removed, "removed items")


def is_kind(kind, name=None):
    return lambda ident: ident[1] == kind and (name is None or ident[3] == name or (ident[3] or "").startswith(name + "-"))


def main(module_globals):
    """Runs every `test_*` function of a module; prints `N passed, M failed`."""
    tests = [(n, f) for n, f in sorted(module_globals.items()) if n.startswith("test_") and callable(f)]
    return run_tests(tests)


def run_tests(tests):
    passed = failed = 0
    for name, f in tests:
        try:
            f()
            passed += 1
            print(f"ok      {name}")
        except Exception as e:  # noqa: BLE001 - report and go on
            failed += 1
            print(f"FAILED  {name}: {type(e).__name__}: {e}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0
