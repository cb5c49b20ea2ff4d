"""external-object-store over the real Kubeflow master render: every consumer of the object store
points at the configured endpoint, bucket, TLS and region; the bundled SeaweedFS and its Secret
go; no item names the bundled store any more; with fromEnvironment no static key is left; every
other item is unchanged (YAML 1.1, strictly); a second run changes nothing. And the chain:
centralize-credentials then external-object-store gives what the reverse order gives."""
import json
import os
import subprocess

import yaml

import harness
from harness import assert_only, is_kind, run_function

ENDPOINT = "s3.eu-west-1.amazonaws.com"
# The address every client is given: the host alone, 443 being the https default
# (minio-js refuses host:port in the UI; config.rs address()).
HOST_PORT = ENDPOINT
BUCKET = "my-kubeflow-artifacts"
REGION = "eu-west-1"
CENTRAL = "kubeflow-credentials"
ROLE = {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/kubeflow-pipelines"}
BASE = {"apiVersion": "fn.kubeflow-krm.dev/v1alpha1", "kind": "ExternalObjectStore", "metadata": {"name": "x"},
        "endpoint": ENDPOINT, "region": REGION, "bucket": BUCKET}
STATIC = dict(BASE, credentials={"secretName": CENTRAL})
FROM_ENV = dict(BASE, credentials={"fromEnvironment": True, "serviceAccountAnnotations": ROLE})
CC = {"apiVersion": "fn.kubeflow-krm.dev/v1alpha1", "kind": "CentralizeCredentials", "metadata": {"name": "x"},
      "secretName": CENTRAL,
      "externalSecret": {"secretStoreRef": {"kind": "ClusterSecretStore", "name": "vault"}, "remoteKey": "kubeflow/credentials"}}
BUNDLED = ["seaweedfs.kubeflow", "minio-service", ":8111", ":8333"]
KEY_VARIABLES = ["OBJECTSTORECONFIG_ACCESSKEY", "OBJECTSTORECONFIG_SECRETACCESSKEY", "MINIO_ACCESS_KEY",
                 "MINIO_SECRET_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]
SECRET_VALUES = ["minio123", "bWluaW8xMjM="]
SCRIPT = os.path.join(harness.ROOT, "functions", "external-object-store", "sync.py")
SEAWEEDFS = {("Deployment", "seaweedfs"), ("Service", "seaweedfs"), ("ServiceAccount", "seaweedfs"),
             ("PersistentVolumeClaim", "seaweedfs-pvc"), ("NetworkPolicy", "seaweedfs"),
             ("AuthorizationPolicy", "seaweedfs-service"), ("DestinationRule", "ml-pipeline-seaweedfs"),
             ("Secret", "mlpipeline-minio-artifact")}
CONSUMERS = {("Deployment", "ml-pipeline"), ("Deployment", "ml-pipeline-ui"),
             ("Deployment", "kubeflow-pipelines-profile-controller"), ("ConfigMap", "workflow-controller-configmap"),
             ("ConfigMap", "kfp-launcher"), ("ConfigMap", "pipeline-install-config"),
             ("ConfigMap", "kubeflow-pipelines-profile-controller-code-c55f957kgf")}
SERVICE_ACCOUNTS = {("ServiceAccount", n) for n in ("ml-pipeline", "ml-pipeline-ui", "argo", "pipeline-runner")}
_runs = {}


def run(config):
    key = json.dumps(config, sort_keys=True)
    if key not in _runs:
        _runs[key] = run_function("external-object-store", config)
    return _runs[key]


def kind_name(ident):
    return (ident[1], ident[3])


def env_of(run_, name, after=True):
    c = run_.item("Deployment", name, after)["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e for e in c.get("env") or []}


def literal(env, name):
    assert "valueFrom" not in env[name], f"{name} is not a literal: {env[name]}"
    return env[name]["value"]


def reads(env, name):
    ref = env[name]["valueFrom"]["secretKeyRef"]
    return ref["name"], ref["key"]


def pipelines_config(run_):
    return run_.item("ConfigMap", "pipeline-install-config")["data"]


def check_consumers(run_, static):
    # API server.
    api = env_of(run_, "ml-pipeline")
    assert literal(api, "OBJECTSTORECONFIG_HOST") == ENDPOINT
    assert literal(api, "OBJECTSTORECONFIG_PORT") == "443"
    assert literal(api, "OBJECTSTORECONFIG_SECURE") == "true"
    assert literal(api, "OBJECTSTORECONFIG_REGION") == REGION
    bucket_ref = api["OBJECTSTORECONFIG_BUCKETNAME"]["valueFrom"]["configMapKeyRef"]
    assert bucket_ref["name"] == "pipeline-install-config" and pipelines_config(run_)[bucket_ref["key"]] == BUCKET
    # UI: the MinIO client (MINIO_NAMESPACE empty: it is appended to the host) and the S3 client.
    ui = env_of(run_, "ml-pipeline-ui")
    assert literal(ui, "MINIO_HOST") == ENDPOINT and literal(ui, "MINIO_PORT") == "443"
    assert literal(ui, "MINIO_SSL") == "true" and literal(ui, "MINIO_NAMESPACE") == ""
    assert literal(ui, "AWS_S3_ENDPOINT") == ENDPOINT and literal(ui, "AWS_REGION") == REGION
    assert literal(ui, "AWS_SSL") == "true" and literal(ui, "ARGO_ARCHIVE_BUCKETNAME") == BUCKET
    # No UI version reads a port for the S3 client (frontend/server/configs.ts loadConfigs()).
    assert "AWS_S3_PORT" not in ui
    # Finished runs' logs of profile namespaces: the UI looks where their repositories put them.
    assert literal(ui, "ARGO_KEYFORMAT").startswith("private-artifacts/{{workflow.namespace}}/{{workflow.name}}/")
    assert literal(ui, "ARGO_ARCHIVE_LOGS") == "true"
    # Keys.
    for env, names in ((api, KEY_VARIABLES[:2]), (ui, KEY_VARIABLES[2:])):
        for name in names:
            if static:
                assert reads(env, name) == (CENTRAL, "s3-access-key" if "ACCESS" in name and "SECRET" not in name else "s3-secret-key"), name
            else:
                assert env[name] == {"name": name, "value": ""}, name
    # Argo: endpoint, bucket, TLS, region and keys edited; every other line as it was.
    before = run_.item("ConfigMap", "workflow-controller-configmap", False)["data"]["artifactRepository"]
    after = run_.item("ConfigMap", "workflow-controller-configmap")["data"]["artifactRepository"]
    s3 = yaml.load(after, Loader=harness.LOADER)["s3"]
    assert s3["endpoint"] == HOST_PORT and s3["bucket"] == BUCKET and s3["insecure"] is False and s3["region"] == REGION
    old = yaml.load(before, Loader=harness.LOADER)["s3"]
    assert s3["keyFormat"] == old["keyFormat"]
    if static:
        assert s3["accessKeySecret"] == {"name": CENTRAL, "key": "s3-access-key"}
        assert s3["secretKeySecret"] == {"name": CENTRAL, "key": "s3-secret-key"}
    else:
        assert s3["useSDKCreds"] is True and "accessKeySecret" not in s3 and "secretKeySecret" not in s3
    edited = ("endpoint:", "bucket:", "insecure:", "name:", "key:", "KeySecret:")
    kept = [l for l in before.split("\n") if not any(k in l for k in edited)]
    assert [l for l in after.split("\n") if l in kept] == kept, "a line of the Argo document was lost"
    assert after.count("#") == before.count("#")
    # The launcher of the Pipelines namespace.
    launcher = run_.item("ConfigMap", "kfp-launcher")["data"]
    # With fromEnvironment, KFP 2.16's launcher ignores the providers: the root carries the store
    # in gocloud v0.40's names (backend/src/v2/objectstore/object_store.go OpenBucket()).
    query = "" if static else f"?region={REGION}&endpoint=https://{ENDPOINT}&use_path_style=true"
    assert launcher["defaultPipelineRoot"] == f"s3://{BUCKET}/v2/artifacts" + query
    providers = yaml.load(launcher["providers"], Loader=harness.LOADER)
    for p in ("s3", "minio"):
        d = providers[p]["default"]
        assert d["endpoint"] == HOST_PORT and d["region"] == REGION and d["disableSSL"] is False
        expected = ({"fromEnv": False, "secretRef": {"secretName": CENTRAL, "accessKeyKey": "s3-access-key",
                                                       "secretKeyKey": "s3-secret-key"}} if static else {"fromEnv": True})
        assert d["credentials"] == expected
    # The profile controller runs this function's script, configured by its env.
    code = run_.item("ConfigMap", "kubeflow-pipelines-profile-controller-code-c55f957kgf")["data"]["sync.py"]
    with open(SCRIPT, encoding="utf-8") as f:
        assert code == f.read()
    controller = env_of(run_, "kubeflow-pipelines-profile-controller")
    assert literal(controller, "OBJECT_STORE_ENDPOINT") == HOST_PORT
    assert literal(controller, "OBJECT_STORE_SECURE") == "true"
    assert literal(controller, "OBJECT_STORE_REGION") == REGION
    assert literal(controller, "OBJECT_STORE_BUCKET") == BUCKET
    if static:
        assert "OBJECT_STORE_ROOT_QUERY" not in controller
    else:
        assert literal(controller, "OBJECT_STORE_ROOT_QUERY") == query
    assert literal(controller, "OBJECT_STORE_CREDENTIALS") == ("secret" if static else "fromEnvironment")
    for gone in ("AWS_ENDPOINT_URL", "S3_ENDPOINT_URL", "OBJECT_STORE_HOST"):
        assert gone not in controller
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        if static:
            assert reads(controller, name)[0] == CENTRAL
        else:
            assert controller[name] == {"name": name, "value": ""}


def check_no_bundled_store(run_):
    for item in run_.after:
        text = json.dumps(item)
        for address in BUNDLED:
            assert address not in text, f"{harness.identity(item)} still names {address}"
    assert not [w for w in run_.results_of("warning") if "still names the bundled" in w["message"]]


def check_no_leak(run_):
    for r in run_.results:
        for value in SECRET_VALUES:
            assert value not in r["message"], r["message"]
    for value in SECRET_VALUES:
        assert value not in run_.stderr


def test_master_static_keys():
    r = run(STATIC)
    check_consumers(r, static=True)
    check_no_bundled_store(r)
    check_no_leak(r)
    assert {kind_name(i) for i in r.removed} == SEAWEEDFS
    assert {kind_name(i) for i in r.changed} == CONSUMERS
    assert not r.added
    assert_only(r, changed=[lambda i: kind_name(i) in CONSUMERS], removed=[lambda i: kind_name(i) in SEAWEEDFS])
    warnings = [w["message"] for w in r.results_of("warning")]
    assert len(warnings) == 2, warnings  # Argo's lookup namespace; existing profile namespaces
    assert any("OnDelete" in w for w in warnings)


def test_master_from_environment():
    r = run(FROM_ENV)
    check_consumers(r, static=False)
    check_no_bundled_store(r)
    check_no_leak(r)
    # No static key anywhere: no key variable reads a Secret or holds a value, no Secret reference
    # in Argo, and the in-tree Secret is gone.
    for item in r.after:
        spec = (item.get("spec") or {}).get("template", {}).get("spec") if item.get("kind") == "Deployment" else None
        for c in (spec or {}).get("containers") or []:
            for e in c.get("env") or []:
                if e["name"] in KEY_VARIABLES and item["metadata"]["name"].startswith(("ml-pipeline", "kubeflow-pipelines")):
                    assert e == {"name": e["name"], "value": ""}, (item["metadata"]["name"], e)
        assert "mlpipeline-minio-artifact" not in json.dumps(item) or item["kind"] == "ConfigMap" and \
            item["metadata"]["name"].startswith("kubeflow-pipelines-profile-controller-code"), harness.identity(item)
    assert {kind_name(i) for i in r.removed} == SEAWEEDFS
    # The identities: the ServiceAccounts that talk to the store, and the controller's RBAC.
    assert {kind_name(i) for i in r.changed} == CONSUMERS | SERVICE_ACCOUNTS
    for _, name in SERVICE_ACCOUNTS:
        assert r.item("ServiceAccount", name)["metadata"]["annotations"] == ROLE
    added = {kind_name(i) for i in r.added}
    assert added == {("ServiceAccount", "kubeflow-pipelines-profile-controller"),
                     ("ClusterRole", "kubeflow-pipelines-profile-controller-default-editor"),
                     ("ClusterRoleBinding", "kubeflow-pipelines-profile-controller-default-editor")}
    controller = r.item("Deployment", "kubeflow-pipelines-profile-controller")["spec"]["template"]["spec"]
    assert controller["serviceAccountName"] == "kubeflow-pipelines-profile-controller"
    assert json.loads(env_of(r, "kubeflow-pipelines-profile-controller")["DEFAULT_EDITOR_ANNOTATIONS"]["value"]) == ROLE
    # KFP 2.16 has a known IRSA problem: a warning names it.
    assert [w for w in r.results_of("warning") if "kubeflow/pipelines#12960" in w["message"]]


def run_chain(configs):
    """Runs the binaries in order over the corpus; the final ResourceList text."""
    text = harness.resource_list_text(harness.corpus_docs(), configs[0])
    for i, config in enumerate(configs):
        binary = "".join("-" + c.lower() if c.isupper() else c for c in config["kind"]).lstrip("-")
        if i:
            rl = yaml.load(text, Loader=harness.LOADER)
            rl["functionConfig"] = config
            text = json.dumps(rl)  # the binaries read JSON too; items are compared as values below
        proc = subprocess.run([os.path.join(harness.BIN, binary)], input=text.encode(), capture_output=True)
        assert proc.returncode == 0, proc.stderr.decode()[:2000]
        text = proc.stdout.decode()
    return yaml.load(text, Loader=harness.LOADER)["items"]


def check_chain(config):
    forward = run_chain([CC, config])
    backward = run_chain([config, CC])
    diff = harness.first_difference(forward, backward)
    assert diff is None, f"centralize-credentials then external-object-store differs from the reverse: {diff}"
    return forward


def test_chain_with_centralize_credentials_static_keys():
    items = check_chain(STATIC)
    # One in kubeflow (the login's are in auth and oauth2-proxy); keys sorted.
    es = [i for i in items if i.get("kind") == "ExternalSecret" and i["metadata"].get("namespace") == "kubeflow"]
    assert len(es) == 1
    assert [d["secretKey"] for d in es[0]["spec"]["data"]] == ["db-password", "db-username", "s3-access-key", "s3-secret-key"]


def test_chain_with_centralize_credentials_from_environment():
    items = check_chain(FROM_ENV)
    es = [i for i in items if i.get("kind") == "ExternalSecret" and i["metadata"].get("namespace") == "kubeflow"]
    assert len(es) == 1
    # Nothing reads the object-store keys any more: the ExternalSecret no longer fills them.
    assert [d["secretKey"] for d in es[0]["spec"]["data"]] == ["db-password", "db-username"]


if __name__ == "__main__":
    raise SystemExit(harness.main(globals()))
