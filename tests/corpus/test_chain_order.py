"""Order does not matter: the mutators of fn-configs/ (every function but the one that only adds
objects) give byte-identical output in every order, over the corpus and over the example."""
import itertools
import os
import subprocess

import yaml

import harness

ROOT = harness.ROOT
# add-request-authentication only adds its own objects; it is not one of the four mutators.
NOT_MUTATORS = {"AddRequestAuthentication"}


def mutator_configs():
    """The per-function files of fn-configs/ (the sections of its Chain, one file each)."""
    paths = [os.path.join(ROOT, "fn-configs", name + ".yaml") for name in harness.FUNCTIONS]
    return [p for p in paths if yaml.safe_load(open(p))["kind"] not in NOT_MUTATORS]


def run_chain(inputs, configs):
    argv = [os.path.join(harness.BIN, "kubeflow-krm"), "run", *inputs]
    for c in configs:
        argv += ["--config", c]
    proc = subprocess.run(argv, capture_output=True)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    return proc.stdout


def check_every_order(inputs):
    configs = mutator_configs()
    assert len(configs) >= 2, configs
    outputs = {}
    for order in itertools.permutations(configs):
        outputs[tuple(os.path.basename(c) for c in order)] = run_chain(inputs, order)
    reference_order, reference = next(iter(outputs.items()))
    differing = [order for order, out in outputs.items() if out != reference]
    assert not differing, f"{len(differing)} of {len(outputs)} orders differ from {reference_order}, e.g. {differing[0]}"


def test_every_order_gives_the_same_output_on_the_corpus():
    check_every_order([harness.CORPUS])


def test_every_order_gives_the_same_output_on_the_example():
    check_every_order([os.path.join(ROOT, "examples", "kubeflow-gitops", "base")])
