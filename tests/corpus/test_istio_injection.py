"""istio-injection over the real Kubeflow master render."""
import yaml

import harness
from harness import assert_only, is_kind, run_function

ISTIO_KEYS = {"istio-injection", "istio.io/rev", "istio.io/dataplane-mode"}
FN = {"apiVersion": "fn.kubeflow-krm.dev/v1alpha1", "kind": "IstioInjection", "metadata": {"name": "x"}}


def labels(item):
    return (item.get("metadata") or {}).get("labels") or {}


def profile_doc(run, after=True):
    cm = run.item("ConfigMap", "namespace-labels-data-2k29b64d74", after)
    return cm["data"]["namespace-labels.yaml"]


def test_ambient_labels_namespaces_and_profiles():
    selected = ["kubeflow", "kubeflow-system", "knative-serving"]
    run = run_function("istio-injection", dict(FN, mode="ambient", namespaces=selected,
                                               podSecurity={"enforce": "restricted"}))
    assert_only(run, changed=[is_kind("Namespace"), is_kind("ConfigMap", "namespace-labels-data")])
    for name in selected:
        before, after = labels(run.item("Namespace", name, False)), labels(run.item("Namespace", name))
        assert after.get("istio.io/dataplane-mode") == "ambient"
        assert "istio-injection" not in after
        assert after.get("pod-security.kubernetes.io/enforce") == "restricted"
        rest = lambda l: {k: v for k, v in l.items() if k not in ISTIO_KEYS}
        assert rest(before) == rest(after), f"{name}: labels the function does not own changed"
    # Profile labels: every original line kept (comments included), the three mode labels set.
    before, after = profile_doc(run, False), profile_doc(run)
    assert after.startswith(before), "the original document (comments, labels) must stay as it was"
    doc = yaml.load(after, Loader=harness.LOADER)
    assert doc["istio.io/dataplane-mode"] == "ambient" and doc["istio-injection"] == "" and doc["istio.io/rev"] == ""
    assert doc["pod-security.kubernetes.io/enforce"] == "baseline", "profiles keep their own PSS level"
    # Every ambient warning names a workload that really asks for a sidecar in a selected namespace.
    warnings = run.results_of("warning")
    assert warnings, "the render has workloads labelled sidecar.istio.io/inject: true"
    for w in warnings:
        ref = w["resourceRef"]
        assert ref["namespace"] in selected
        item = run.item(ref["kind"], ref["name"])
        meta = item["spec"]["template"]["metadata"]
        asks = "true" in ((meta.get("labels") or {}).get("sidecar.istio.io/inject"),
                          (meta.get("annotations") or {}).get("sidecar.istio.io/inject"))
        assert asks, f"{ref} does not ask for a sidecar"
    assert all("minio123" not in r["message"] for r in run.results)


def test_sidecar_default_labels_only_what_lacks_the_label():
    run = run_function("istio-injection", FN)
    assert_only(run, changed=[is_kind("Namespace"), is_kind("ConfigMap", "namespace-labels-data")])
    changed_ns = sorted(i[3] for i in run.changed if i[1] == "Namespace")
    # kubeflow, kubeflow-system and knative-serving already have istio-injection: enabled;
    # istio-system is a fixed exclusion.
    assert changed_ns == ["auth", "cert-manager", "oauth2-proxy"], changed_ns
    for name in changed_ns:
        assert labels(run.item("Namespace", name))["istio-injection"] == "enabled"


def test_create_namespaces_adds_nothing_when_all_are_defined():
    run = run_function("istio-injection", dict(FN, createNamespaces=True, profiles=False,
                                               namespaces=["kubeflow*"]))
    # kube-system is used but never labelled; every other used namespace is defined.
    assert run.added == [], run.added
    assert_only(run, changed=[is_kind("Namespace", "kubeflow"), is_kind("Namespace", "kubeflow-system")])
    assert run.changed == [], "kubeflow and kubeflow-system already have istio-injection: enabled"


if __name__ == "__main__":
    raise SystemExit(harness.main(globals()))
