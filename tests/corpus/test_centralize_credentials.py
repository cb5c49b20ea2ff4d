"""centralize-credentials over the real Kubeflow master render (and with Model Registry's db overlay
shapes added, since the example render has no Model Registry)."""
import os

import yaml

import harness
from harness import assert_only, is_kind, run_function

CENTRAL = "kubeflow-credentials"
KEYS = {"database.username": "db-username", "database.password": "db-password",
        "objectStore.accessKey": "s3-access-key", "objectStore.secretKey": "s3-secret-key",
        "login.clientId": "oidc-client-id", "login.clientSecret": "oidc-client-secret",
        "login.cookieSecret": "oauth2-proxy-cookie-secret", "login.passwordHash": "dex-password-hash"}
FN = {"apiVersion": "fn.kubeflow-krm.dev/v1alpha1", "kind": "CentralizeCredentials",
      "metadata": {"name": "x"}, "secretName": CENTRAL}
ES = {"secretStoreRef": {"kind": "ClusterSecretStore", "name": "vault"}, "remoteKey": "kubeflow/credentials"}

# The credential keys of each Secret being replaced (facts §1, §10.1).
OLD = {
    "mysql-secret": {"username", "password"},
    "mlpipeline-minio-artifact": {"accesskey", "secretkey"},
    "katib-mysql-secrets": {"MYSQL_ROOT_PASSWORD", "DB_USER", "DB_PASSWORD"},
    "model-registry-db-secrets": {"MYSQL_USER_NAME", "MYSQL_ROOT_PASSWORD"},
    # The login (facts §11).
    "dex-oidc-client": {"OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET"},
    "dex-passwords": {"DEX_USER_PASSWORD"},
    "oauth2-proxy": {"client-id", "client-secret", "cookie-secret"},
}
# Values that must never reach a message (the defaults, plain and base64).
SECRET_VALUES = ["minio123", "dGVzdA==", "cm9vdA==", "bWluaW8xMjM=", "pUBnBOY80SnXgjibTYM9ZWNzY2xreNGQok",
                 "7d16fee92f8d11b8940b081b3f8b8acb", "N2QxNmZlZTkyZjhkMTFiODk0MGIwODFiM2Y4YjhhY2I="]
ARGO_SLOTS = ("accessKeySecret", "secretKeySecret")
MR_FIXTURE = os.path.join(harness.ROOT, "tests", "fixtures", "model-registry.yaml")


def old_name(name):
    """The replaced Secret a name denotes (hash suffix allowed), or None."""
    for old in OLD:
        if name == old or (name.startswith(old + "-") and len(name) == len(old) + 11):
            return old
    return None


def pod_spec(item):
    kind = item.get("kind")
    spec = item.get("spec") or {}
    if kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"):
        return ((spec.get("template") or {}).get("spec")) or {}
    if kind == "CronJob":
        return (((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}).get("spec") or {}
    if kind == "Pod":
        return spec
    return None


def containers(item):
    spec = pod_spec(item) or {}
    return (spec.get("initContainers") or []) + (spec.get("containers") or [])


def argo_refs(item):
    """(slot, name, key) of the artifactRepository secret references of an Argo ConfigMap."""
    if item.get("kind") != "ConfigMap" or item["metadata"]["name"] != "workflow-controller-configmap":
        return []
    doc = yaml.load(item["data"]["artifactRepository"], Loader=harness.LOADER)
    return [(slot, doc["s3"][slot]["name"], doc["s3"][slot]["key"]) for slot in ARGO_SLOTS]


def credential_refs(item):
    """Every reference of a workload or ConfigMap to a replaced Secret for a credential key:
    (where, Secret, key or None for every key)."""
    found = []
    for c in containers(item):
        for e in c.get("env") or []:
            ref = (e.get("valueFrom") or {}).get("secretKeyRef") or {}
            old = old_name(ref.get("name", ""))
            if old and ref.get("key") in OLD[old]:
                found.append((f"{c['name']}.env.{e['name']}", old, ref["key"]))
        for s in c.get("envFrom") or []:
            old = old_name((s.get("secretRef") or {}).get("name", ""))
            if old:
                found.append((f"{c['name']}.envFrom", old, None))
    for v in (pod_spec(item) or {}).get("volumes") or []:
        old = old_name((v.get("secret") or {}).get("secretName", ""))
        if old:
            found.append((f"volume {v['name']}", old, None))
    for slot, name, key in argo_refs(item):
        old = old_name(name)
        if old and key in OLD[old]:
            found.append((f"artifactRepository.s3.{slot}", old, key))
    return found


def central_refs(item):
    """Every env entry or embedded reference that reads the central Secret: (where, key)."""
    found = []
    for c in containers(item):
        for e in c.get("env") or []:
            ref = (e.get("valueFrom") or {}).get("secretKeyRef") or {}
            if ref.get("name") == CENTRAL:
                found.append((f"{c['name']}.env.{e['name']}", ref["key"]))
    for slot, name, key in argo_refs(item):
        if name == CENTRAL:
            found.append((f"artifactRepository.s3.{slot}", key))
    return found


def consumers(items):
    return {harness.identity(i): credential_refs(i) for i in items if credential_refs(i)}


def mr_docs():
    with open(MR_FIXTURE, encoding="utf-8") as f:
        text = f.read()
    docs = []
    for doc in text.split("\n---\n"):
        lines = [l for l in doc.split("\n") if not l.startswith("#")]
        docs.append("\n".join(lines))
    return [d for d in docs if d.strip()]


def check_no_messages_leak(run):
    for r in run.results:
        for value in SECRET_VALUES:
            assert value not in r["message"], f"a result carries a secret value: {r['message']}"
    for value in SECRET_VALUES:
        assert value not in run.stderr, "stderr carries a secret value"


def check_rewired(run, expect_consumers):
    before = consumers(run.before)
    assert set(before) == set(expect_consumers), sorted(before)
    # No workload, ConfigMap or embedded config reads a replaced Secret for a credential key.
    after = consumers(run.after)
    assert not after, f"still reading the old Secrets: {after}"
    # Every former consumer now reads the central Secret, at the same places, with the right keys.
    for ident, refs in before.items():
        item = run.after_by_id[ident]
        reads = dict(central_refs(item))
        for where, old, key in refs:
            if key is None:  # envFrom: its credential keys became env entries of the same names
                container = where.split(".")[0]
                names = {w.split(".env.")[1] for w in reads if w.startswith(container + ".env.")}
                keys = set()
                for i in run.before:
                    if i.get("kind") == "Secret" and old_name(i["metadata"]["name"]) == old:
                        keys |= set(i.get("data") or {}) | set(i.get("stringData") or {})
                assert keys & OLD[old] and keys & OLD[old] <= names, f"{ident} {where}: {keys & OLD[old]} not in {names}"
            else:
                assert where in reads, f"{ident} {where} does not read {CENTRAL}"
        for where, key in reads.items():
            assert key in KEYS.values(), f"{ident} {where} reads {key}"


def check_no_default_credentials(run):
    for item in run.after:
        if item.get("kind") != "Secret":
            continue
        old = old_name(item["metadata"]["name"])
        if old:
            keys = set(item.get("data") or {}) | set(item.get("stringData") or {})
            assert not keys & OLD[old], f"Secret {item['metadata']['name']} still carries {keys & OLD[old]}"


MASTER_CONSUMERS = {"ml-pipeline", "cache-server", "metadata-grpc-deployment", "ml-pipeline-ui",
                    "kubeflow-pipelines-profile-controller", "seaweedfs", "katib-db-manager", "katib-mysql",
                    "workflow-controller-configmap", "dex", "oauth2-proxy", "kfp-launcher"}


def is_expected_consumer(ident):
    """A consumer of the render: a Deployment of MASTER_CONSUMERS, or Argo's ConfigMap (dex's
    ConfigMap `dex` names its variables, it reads no Secret)."""
    return ident[3] in MASTER_CONSUMERS and (ident[1] == "Deployment" or ident[3] == "workflow-controller-configmap")


def is_consumer(ident):
    return ident[3] in MASTER_CONSUMERS or (ident[3] or "").startswith("model-registry-")


def test_master_every_consumer_reads_the_central_secret():
    run = run_function("centralize-credentials", dict(FN, externalSecret=ES))
    expected = {i for i in run.before_by_id if is_expected_consumer(i)}
    check_rewired(run, expected)
    check_no_default_credentials(run)
    check_no_messages_leak(run)
    # Every other item is unchanged (YAML 1.1, strictly); the six Secrets go; an ExternalSecret per
    # namespace that reads the central Secret.
    assert_only(run, changed=[is_consumer], removed=[is_kind("Secret")], added=[is_kind("ExternalSecret")])
    assert sorted(i[3] for i in run.removed) == ["dex-oidc-client", "dex-passwords", "katib-mysql-secrets",
                                                 "mlpipeline-minio-artifact", "mysql-secret", "oauth2-proxy-h675gf55ht"]
    assert sorted(i[3] for i in run.changed) == sorted(MASTER_CONSUMERS)
    # The launcher reads mlpipeline-minio-artifact by name (its default session), which is gone:
    # it gets a minio provider with the default session's endpoint and the central Secret.
    providers = yaml.load(run.item("ConfigMap", "kfp-launcher")["data"]["providers"], Loader=harness.LOADER)
    assert providers == {"minio": {"default": {
        "endpoint": "seaweedfs.kubeflow:9000", "region": "minio", "disableSSL": True,
        "credentials": {"fromEnv": False, "secretRef": {
            "secretName": CENTRAL, "accessKeyKey": "s3-access-key", "secretKeyKey": "s3-secret-key"}}}}}, providers
    # The Argo document keeps every other line, comments included.
    before = run.item("ConfigMap", "workflow-controller-configmap", False)["data"]["artifactRepository"]
    after = run.item("ConfigMap", "workflow-controller-configmap")["data"]["artifactRepository"]
    changed = [(a, b) for a, b in zip(before.split("\n"), after.split("\n")) if a != b]
    assert len(before.split("\n")) == len(after.split("\n")) and len(changed) == 4, changed
    assert after.count("#") == before.count("#")
    # SeaweedFS keeps its shell variable names; Katib reads its user too.
    seaweed = run.item("Deployment", "seaweedfs")["spec"]["template"]["spec"]["containers"][0]
    assert "envFrom" not in seaweed and [e["name"] for e in seaweed["env"]] == ["accesskey", "secretkey"]
    katib = run.item("Deployment", "katib-db-manager")["spec"]["template"]["spec"]["containers"][0]["env"]
    assert [e["name"] for e in katib] == ["DB_NAME", "DB_PASSWORD", "DB_USER"]
    assert katib[2]["valueFrom"]["secretKeyRef"] == {"key": "db-username", "name": CENTRAL}
    # The ExternalSecrets of the contract, one in each namespace that needs the Secret, keys sorted.
    es = {i["metadata"]["namespace"]: i for i in run.after if i.get("kind") == "ExternalSecret"}
    assert sorted(es) == ["auth", "kubeflow", "oauth2-proxy"], sorted(es)
    assert [d["secretKey"] for d in es["auth"]["spec"]["data"]] == ["dex-password-hash", "oidc-client-id", "oidc-client-secret"]
    assert [d["secretKey"] for d in es["oauth2-proxy"]["spec"]["data"]] == ["oauth2-proxy-cookie-secret", "oidc-client-id", "oidc-client-secret"]
    es = [es["kubeflow"]]
    assert es[0]["metadata"] == {"name": CENTRAL, "namespace": "kubeflow"}
    assert es[0]["apiVersion"] == "external-secrets.io/v1"
    assert es[0]["spec"] == {
        "data": [{"remoteRef": {"key": "kubeflow/credentials", "property": k}, "secretKey": k}
                 for k in ["db-password", "db-username", "s3-access-key", "s3-secret-key"]],
        "refreshInterval": "1h",
        "secretStoreRef": {"kind": "ClusterSecretStore", "name": "vault"},
        "target": {"name": CENTRAL},
    }
    namespace_infos = [r for r in run.results_of("info") if r["message"].startswith("namespace ")]
    assert [r["message"].split()[1] for r in namespace_infos] == ["auth", "kubeflow", "oauth2-proxy"]
    # Only the Argo note warns: the render mounts no credential Secret.
    assert [w["resourceRef"]["name"] for w in run.results_of("warning")] == ["workflow-controller-configmap"]


def test_master_keeping_the_secrets_changes_only_the_consumers():
    run = run_function("centralize-credentials", dict(FN, removeReplacedSecrets=False))
    assert_only(run, changed=[is_consumer])
    assert not consumers(run.after)
    assert not run.removed and not run.added


def test_model_registry_db_overlay():
    docs = harness.corpus_docs() + mr_docs()
    run = run_function("centralize-credentials", FN, docs=docs)
    expected = {i for i in run.before_by_id
                if is_expected_consumer(i)
                or (i[3] in ("model-registry-deployment", "model-registry-db") and i[1] == "Deployment")}
    check_rewired(run, expected)
    check_no_default_credentials(run)
    check_no_messages_leak(run)
    assert_only(run, changed=[is_consumer], removed=[is_kind("Secret")])
    assert "model-registry-db-secrets" in [i[3] for i in run.removed]
    server = run.item("Deployment", "model-registry-deployment")["spec"]["template"]["spec"]["containers"][0]
    # The DSN's $(MYSQL_USER_NAME):$(MYSQL_ROOT_PASSWORD) still resolve, now from the central Secret.
    assert [e["name"] for e in server["env"]] == ["MYSQL_ROOT_PASSWORD", "MYSQL_USER_NAME"]
    assert [list(s)[0] for s in server["envFrom"]] == ["configMapRef", "configMapRef"]
    assert any("$(MYSQL_USER_NAME):$(MYSQL_ROOT_PASSWORD)" in a for a in server["args"])


if __name__ == "__main__":
    raise SystemExit(harness.main(globals()))
