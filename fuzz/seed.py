#!/usr/bin/env python3
"""Writes the seed inputs of every fuzz target into fuzz/corpus/<target>/ (seed-<name> files).

The seeds are the project's own test inputs, so the fuzzer starts from real Kubeflow shapes:
- each function target: one ResourceList per golden case of that function (its config.yaml as
  the functionConfig and its input as the items, as text, so their YAML styles reach the fuzzer);
- resource_list: the same ResourceLists of every function, and every golden expected.yaml (a
  ResourceList with results, as the functions write them);
- yaml_reader: the shared fixtures, the example base, fn-configs and every golden config.

Run by fuzz/run.sh when a target's corpus is empty; rerun it after adding golden cases.
"""
import glob
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def case_input(case):
    ref = os.path.join(case, "input.ref")
    if os.path.exists(ref):
        paths = [p.strip() for p in read(ref).splitlines() if p.strip()]
        return "\n---\n".join(read(os.path.join(ROOT, p)) for p in paths)
    return read(os.path.join(case, "input.yaml"))


def indented(text):
    return "".join(("  " + line) if line.strip() else line for line in text.splitlines(True))


def resource_list(items_text, config_text):
    """A ResourceList of the documents of a stream, built as text (styles kept)."""
    out = ["apiVersion: config.kubernetes.io/v1\n", "kind: ResourceList\n", "items:\n"]
    for doc in items_text.split("\n---\n"):
        doc = doc.strip("\n")
        if doc.startswith("---"):
            doc = doc[3:].lstrip("\n")
        if not doc.strip() or all(l.startswith("#") for l in doc.splitlines() if l.strip()):
            continue
        lines = doc.split("\n")
        out.append("- " + lines[0] + "\n")
        out.extend(("  " + l + "\n") if l else "\n" for l in lines[1:])
    if config_text is not None:
        out.append("functionConfig:\n" + indented(config_text.strip("\n") + "\n"))
    return "".join(out)


def write(target, name, text):
    folder = os.path.join(CORPUS, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "seed-" + name), "w", encoding="utf-8") as f:
        f.write(text)


def main():
    for fdir in sorted(glob.glob(os.path.join(ROOT, "functions", "*"))):
        function = os.path.basename(fdir)
        target = function.replace("-", "_")
        for case in sorted(glob.glob(os.path.join(fdir, "tests", "golden", "*"))):
            name = os.path.basename(case)
            config = os.path.join(case, "config.yaml")
            rl = resource_list(case_input(case), read(config) if os.path.exists(config) else None)
            write(target, name, rl)
            write("resource_list", f"{function}-{name}", rl)
            write("resource_list", f"{function}-{name}-expected", read(os.path.join(case, "expected.yaml")))
            if os.path.exists(config):
                write("yaml_reader", f"config-{function}-{name}", read(config))
    for path in sorted(glob.glob(os.path.join(ROOT, "tests", "fixtures", "*.yaml"))
                       + glob.glob(os.path.join(ROOT, "fn-configs", "*.yaml"))
                       + [os.path.join(ROOT, "examples", "kubeflow-gitops", "base", "kubeflow.yaml")]):
        write("yaml_reader", os.path.relpath(path, ROOT).replace("/", "-"), read(path))


if __name__ == "__main__":
    main()
