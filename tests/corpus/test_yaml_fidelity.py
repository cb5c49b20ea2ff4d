"""YAML fidelity of the KRM core on the real render: a ResourceList of the whole corpus through
`kubeflow-krm fmt` (the bare parse-and-emit every function does) reads back identical under
YAML 1.1, and no string is written in a plain form that another Kubernetes YAML reader would
take for something else (go-yaml v2's y/n booleans, YAML 1.2's 0o12 and 1e3 numbers...)."""
import json
import re
import subprocess
import os

import yaml

import harness

# Plain scalars that PyYAML reads as strings but go-yaml v2 (y/n) or YAML 1.2 / go-yaml v3
# (0o octal, digits with leading zeros, exponent floats without a dot) would read as another type.
AMBIGUOUS = re.compile(r"""^(
    [yYnN] | [-+]?0o[0-7]+ | [-+]?0[0-9]+ | [-+]?[0-9]+[eE][-+]?[0-9]+ | [-+]?\.[0-9]+([eE][-+]?[0-9]+)?
)$""", re.X)


def fmt(text):
    proc = subprocess.run([os.path.join(harness.BIN, "kubeflow-krm"), "fmt"], input=text.encode(), capture_output=True)
    assert proc.returncode == 0, proc.stderr.decode()[:2000]
    return proc.stdout.decode()


def plain_ambiguous_strings(node, found):
    if isinstance(node, yaml.ScalarNode):
        if node.style is None and node.tag == "tag:yaml.org,2002:str" and AMBIGUOUS.match(node.value):
            found.append(node.value)
    elif isinstance(node, yaml.SequenceNode):
        for n in node.value:
            plain_ambiguous_strings(n, found)
    elif isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            plain_ambiguous_strings(k, found)
            plain_ambiguous_strings(v, found)


def test_corpus_round_trip_is_exact_under_yaml_1_1():
    text = harness.resource_list_text(harness.corpus_docs(), {})
    out = fmt(text)
    items = yaml.load(out, Loader=harness.LOADER)["items"]
    before = harness.corpus_items()
    assert len(items) == len(before) == 683
    diffs = [d for d in (harness.first_difference(a, b) for a, b in zip(before, items)) if d]
    assert not diffs, f"{len(diffs)} items differ, first: {diffs[:3]}"
    found = []
    plain_ambiguous_strings(yaml.compose(out, Loader=harness.LOADER), found)
    assert not found, f"ambiguous plain strings: {found[:10]}"
    # The typed-looking strings of the render stay double-quoted as upstream writes them.
    for needle in ['"1970-01-01T00:00:00Z"', '"8443":', 'dbPort: "3306"', 'ARTIFACT_RETENTION_DAYS: "-1"']:
        assert needle in out, needle


def test_tricky_scalars_round_trip():
    tricky = ["yes", "on", "Off", "y", "N", "0755", "1e3", "~", "2024-01-01", "0x1F", ".inf", "-.5", "",
              " lead", "trail ", "1:20", "=", "<<", "null", "3306", "1.0", "a: b", "#x", "- x", "---",
              "multi\nline\n", "keep\n\n", "  indented\nblock", "tab\there", "ünïcödé ⇒", "\u00a0nbsp",
              "crlf\r\nline", "0o12", "1_000", "0b101", "+1", "2001-12-14 21:59:43.10 -5", "x" * 3000]
    item = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "t"},
            "data": {f"k{i}": s for i, s in enumerate(tricky)} | {s: "key" for s in tricky if "\n" not in s}}
    # JSON input: unambiguous, so any change is the emitter's.
    text = json.dumps({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": [item]})
    out = fmt(text)
    back = yaml.load(out, Loader=harness.LOADER)["items"][0]
    assert harness.first_difference(item, back) is None, harness.first_difference(item, back)
    found = []
    plain_ambiguous_strings(yaml.compose(out, Loader=harness.LOADER), found)
    assert not found, found
