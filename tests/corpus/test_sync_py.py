"""The profile controller script external-object-store writes, run as metacontroller runs it.

The function runs over the master corpus (DecoratorController, the real sync.py) and over the
Kubeflow 1.9 fixtures (CompositeController, a sync.py of that era), with static keys and with
fromEnvironment. The script it leaves in the code ConfigMap is loaded with the environment the
controller Deployment gives it (ConfigMap references resolved from the output, Secret references
given test values), served over HTTP on a free port, and sent sample sync requests. The original
script is served the same way (botocore stubbed for master's) so the answers can be compared: the
same response keys and the same objects, plus kfp-launcher and artifact-repositories where the
old script made none. No network, no third-party module."""
import base64
import contextlib
import json
import os
import sys
import threading
import types
import urllib.request

import yaml

import harness
from harness import run_function

# The same store and credential modes as the function's corpus test.
from test_external_object_store import BUCKET, ENDPOINT, FROM_ENV, REGION, ROLE, STATIC  # noqa: E402
# Test values for the Secret references of the controller (never real keys).
KEY_VALUES = {"s3-access-key": "AKIATESTACCESSKEY", "s3-secret-key": "test-secret-value",
              "accesskey": "minio", "secretkey": "minio123"}
BUNDLED = ["seaweedfs.kubeflow", "minio-service", ":8111", ":8333"]
FIXTURES = os.path.join(harness.ROOT, "tests", "fixtures")
PLURAL = {"secrets": "Secret", "configmaps": "ConfigMap", "deployments": "Deployment", "services": "Service",
          "destinationrules": "DestinationRule", "authorizationpolicies": "AuthorizationPolicy"}
_runs = {}


def fixture_docs(*names):
    docs = []
    for name in names:
        with open(os.path.join(FIXTURES, name), encoding="utf-8") as f:
            for doc in f.read().split("\n---\n"):
                lines = [l for l in doc.split("\n") if not l.startswith("#")]
                if "\n".join(lines).strip():
                    docs.append("\n".join(lines))
    return docs


def run(era, config):
    key = (era, json.dumps(config, sort_keys=True))
    if key not in _runs:
        docs = None if era == "master" else fixture_docs("credentials-v1.9.yaml", "objectstore-v1.9.yaml")
        _runs[key] = run_function("external-object-store", config, docs=docs)
    return _runs[key]


def find(items, kind, name):
    """The one item of a kind and name (a kustomize hash suffix matches)."""
    found = [i for i in items if i.get("kind") == kind and harness.is_kind(kind, name)(harness.identity(i))]
    assert len(found) == 1, f"{kind} {name}: {len(found)}"
    return found[0]


def controller_parts(items):
    """The controller Deployment's container, its script, and the controller object."""
    deployment = find(items, "Deployment", "kubeflow-pipelines-profile-controller")
    spec = deployment["spec"]["template"]["spec"]
    hooks = [v for v in spec["volumes"] if v["name"] == "hooks"][0]["configMap"]["name"]
    code = [i for i in items if i.get("kind") == "ConfigMap" and i["metadata"]["name"] == hooks][0]
    controllers = [i for i in items if i.get("kind") in ("DecoratorController", "CompositeController")]
    assert len(controllers) == 1
    return spec["containers"][0], code["data"]["sync.py"], controllers[0]


def environment(items, container):
    """The controller's environment as the kubelet builds it (Secrets get test values)."""
    def configmap(name):
        return [i for i in items if i.get("kind") == "ConfigMap" and i["metadata"]["name"] == name]
    env = {}
    for source in container.get("envFrom") or []:
        for cm in configmap(source["configMapRef"]["name"]):
            env.update(cm.get("data") or {})
    for e in container.get("env") or []:
        if "value" in e:
            env[e["name"]] = e["value"]
            continue
        ref = e.get("valueFrom") or {}
        if "configMapKeyRef" in ref:
            r = ref["configMapKeyRef"]
            cms = configmap(r["name"])
            if cms and r["key"] in (cms[0].get("data") or {}):
                env[e["name"]] = cms[0]["data"][r["key"]]
            else:
                assert r.get("optional"), f"{e['name']}: ConfigMap {r['name']} key {r['key']} missing"
        elif "secretKeyRef" in ref:
            env[e["name"]] = KEY_VALUES[ref["secretKeyRef"]["key"]]
    return env


@contextlib.contextmanager
def patched_environ(env):
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


class FakeClient:
    """botocore client of master's original script: IAM and S3 calls answer locally."""
    def create_access_key(self, UserName):
        return {"AccessKey": {"AccessKeyId": "AKIA" + UserName.upper(), "SecretAccessKey": "generated"}}

    def put_user_policy(self, **kw):
        return {}

    def get_bucket_lifecycle_configuration(self, **kw):
        raise Exception("no lifecycle")

    def put_bucket_lifecycle_configuration(self, **kw):
        return {}

    def delete_bucket_lifecycle(self, **kw):
        return {}


def stub_botocore():
    session = types.ModuleType("botocore.session")
    session.get_session = lambda: types.SimpleNamespace(create_client=lambda *a, **kw: FakeClient())
    botocore = types.ModuleType("botocore")
    botocore.session = session
    sys.modules["botocore"] = botocore
    sys.modules["botocore.session"] = session


def load(script, name):
    module = types.ModuleType(name)
    exec(compile(script, name + ".py", "exec"), module.__dict__)
    return module


def serve(server):
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


def post(server, request):
    port = server.server_address[1]
    data = json.dumps(request).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/sync", data=data, method="POST",
                                 headers={"Content-Type": "application/json"})
    with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
        with urllib.request.urlopen(req, timeout=10) as response:
            assert response.status == 200
            return json.loads(response.read())


def attachment_types(controller):
    spec = controller["spec"]
    listed = spec.get("attachments") or spec.get("childResources")
    return [f"{PLURAL[a['resource']]}.{a['apiVersion']}" for a in listed]


def request_for(controller, namespace, enabled=True, observed=None):
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace, "labels": {}}}
    if enabled:
        ns["metadata"]["labels"]["pipelines.kubeflow.org/enabled"] = "true"
    related = {t: {} for t in attachment_types(controller)}
    for obj in observed or []:
        t = [k for k in related if k.startswith(obj["kind"] + ".")][0]
        related[t][f"{namespace}/{obj['metadata']['name']}"] = obj
    if controller["kind"] == "CompositeController":
        return {"controller": controller, "parent": ns, "children": related}
    return {"controller": controller, "object": ns, "attachments": related}


class Served:
    """The new script of a run, served with the controller's environment."""
    def __init__(self, era, config, env_change=None, patch_ok=True):
        result = run(era, config)
        container, self.script, self.controller = controller_parts(result.after)
        self.items = result.after
        self.env = environment(result.after, container)
        if env_change:
            self.env.update(env_change)
        self.patched = []
        module = load(self.script, "sync_under_test")
        self.module = module
        self.settings = module.get_settings_from_env(self.env)
        self.settings["controller_port"] = 0

        def patch(namespace, name, annotations):
            self.patched.append((namespace, name, annotations))
            return patch_ok
        self.server = serve(module.server_factory(self.settings, url="127.0.0.1", patch=patch))
        self.key = "children" if self.controller["kind"] == "CompositeController" else "attachments"

    def sync(self, namespace="team-a", **kw):
        return post(self.server, request_for(self.controller, namespace, **kw))

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def original_answer(era, config, namespace="team-a", env_change=None):
    """The original script of the input, served with the input's controller environment."""
    result = run(era, config)
    container, script, controller = controller_parts(result.before)
    env = environment(result.before, container)
    env.update(env_change or {})
    stub_botocore()
    with patched_environ(env):
        module = load(script, "sync_original")
        settings = module.get_settings_from_env()
        settings["controller_port"] = 0
        server = serve(module.server_factory(url="127.0.0.1", **{k: v for k, v in settings.items() if k != "url"}))
        try:
            return post(server, request_for(controller, namespace))
        finally:
            server.shutdown()
            server.server_close()


def by_name(answer, key):
    return {(o["kind"], o["metadata"]["name"]): o for o in answer[key]}


def check_common(served, answer, static):
    key = served.key
    assert set(answer) <= {"status", key, "resyncAfterSeconds"}, answer.keys()
    objects = by_name(answer, key)
    for o in answer[key]:
        assert o["metadata"]["namespace"] == "team-a"
    text = json.dumps(answer)
    for address in BUNDLED:
        assert address not in text, f"the answer names {address}"
    # kfp-launcher: the namespace's root on the bucket, the store as provider.
    launcher = objects[("ConfigMap", "kfp-launcher")]["data"]
    # With fromEnvironment the root carries the store as a query in the names of the input's KFP
    # (its launcher ignores the providers then); none with static keys.
    query = served.env.get("OBJECT_STORE_ROOT_QUERY", "")
    assert launcher["defaultPipelineRoot"] == f"s3://{BUCKET}/private-artifacts/team-a/v2/artifacts" + query
    if static:
        assert query == ""
    else:
        names = "use_path_style=true" if served.controller["kind"] == "DecoratorController" else "s3ForcePathStyle=true"
        assert query == f"?region={REGION}&endpoint=https://{ENDPOINT}&" + (names if "use_path" in names else "disableSSL=false&" + names), query
    providers = yaml.load(launcher["providers"], Loader=harness.LOADER)
    assert set(providers) == {"s3", "minio"}
    for p in providers.values():
        d = p["default"]
        assert d["endpoint"] == ENDPOINT and d["region"] == REGION
        assert d["disableSSL"] is False and d["forcePathStyle"] is True
        if static:
            assert d["credentials"] == {"fromEnv": False, "secretRef": {
                "secretName": "mlpipeline-minio-artifact", "accessKeyKey": "accesskey", "secretKeyKey": "secretkey"}}
        else:
            assert d["credentials"] == {"fromEnv": True}
    # The launcher ConfigMap of the Pipelines namespace has the same providers text, with the
    # central Secret (the function writes it in Rust, the script in Python).
    central = ("kubeflow-credentials", "s3-access-key", "s3-secret-key")
    kubeflow_launcher = find(served.items, "ConfigMap", "kfp-launcher")["data"]["providers"]
    assert kubeflow_launcher == served.module.providers_yaml(served.settings, *central)
    # Argo's repository for the namespace.
    repo = objects[("ConfigMap", "artifact-repositories")]
    assert repo["metadata"]["annotations"] == {"workflows.argoproj.io/default-artifact-repository": "default-namespaced"}
    s3 = json.loads(repo["data"]["default-namespaced"])["s3"]
    assert s3["endpoint"] == ENDPOINT and s3["bucket"] == BUCKET and s3["insecure"] is False and s3["region"] == REGION
    assert s3["keyFormat"].startswith("private-artifacts/team-a/{{workflow.name}}/")
    if static:
        assert s3["accessKeySecret"] == {"name": "mlpipeline-minio-artifact", "key": "accesskey"}
        assert s3["secretKeySecret"] == {"name": "mlpipeline-minio-artifact", "key": "secretkey"}
        assert "useSDKCreds" not in s3
        secret = objects[("Secret", "mlpipeline-minio-artifact")]
        decoded = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
        assert decoded == {"accesskey": KEY_VALUES["s3-access-key"], "secretkey": KEY_VALUES["s3-secret-key"]}
    else:
        assert s3["useSDKCreds"] is True and "accessKeySecret" not in s3 and "secretKeySecret" not in s3
        assert not [o for o in answer[key] if o["kind"] == "Secret"], "no static key with fromEnvironment"
    assert objects[("ConfigMap", "metadata-grpc-configmap")]["data"] == {
        "METADATA_GRPC_SERVICE_HOST": "metadata-grpc-service.kubeflow", "METADATA_GRPC_SERVICE_PORT": "8080"}
    # The artifact proxy, when there is one, reads the external store.
    proxy = objects.get(("Deployment", "ml-pipeline-ui-artifact"))
    if proxy:
        env = {e["name"]: e for e in proxy["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert env["MINIO_HOST"]["value"] == ENDPOINT and env["MINIO_PORT"]["value"] == "443"
        assert env["MINIO_SSL"]["value"] == "true" and env["MINIO_NAMESPACE"]["value"] == ""
        for name in ("MINIO_ACCESS_KEY", "MINIO_SECRET_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            if static:
                assert env[name]["valueFrom"]["secretKeyRef"]["name"] == "mlpipeline-minio-artifact"
            else:
                assert env[name] == {"name": name, "value": ""}
        assert ("Service", "ml-pipeline-ui-artifact") in objects
    return objects


def compare_with_original(served, answer, original, added):
    key = served.key
    assert set(original) == {"status", key}
    assert set(original["status"]) == set(answer["status"]) == {"kubeflow-pipelines-ready"}
    mine, theirs = set(by_name(answer, key)), set(by_name(original, key))
    assert theirs <= mine, f"objects the original made and the new script does not: {theirs - mine}"
    assert mine - theirs <= set(added), f"new objects: {mine - theirs}"
    for (kind, name), o in by_name(original, key).items():
        assert by_name(answer, key)[(kind, name)]["apiVersion"] == o["apiVersion"], (kind, name)


def test_master_static_keys():
    served = Served("master", STATIC)
    try:
        # Not enabled: nothing, as before.
        assert served.sync(enabled=False) == {"status": {}, "attachments": []}
        answer = served.sync()
        objects = check_common(served, answer, static=True)
        assert sorted(objects) == [("ConfigMap", "artifact-repositories"), ("ConfigMap", "kfp-launcher"),
                                   ("ConfigMap", "metadata-grpc-configmap"), ("Secret", "mlpipeline-minio-artifact")]
        assert answer["status"] == {"kubeflow-pipelines-ready": "False"}
        assert not served.patched and "resyncAfterSeconds" not in answer
        # Once metacontroller holds what was asked for, the namespace is ready.
        again = served.sync(observed=answer["attachments"])
        assert again["status"] == {"kubeflow-pipelines-ready": "True"}
        compare_with_original(served, answer, original_answer("master", STATIC), added=[])
    finally:
        served.close()


def test_master_artifact_proxy():
    change = {"ARTIFACTS_PROXY_ENABLED": "true"}
    served = Served("master", STATIC, env_change=change)
    try:
        answer = served.sync()
        objects = check_common(served, answer, static=True)
        assert ("Deployment", "ml-pipeline-ui-artifact") in objects
        proxy_env = {e["name"] for e in objects[("Deployment", "ml-pipeline-ui-artifact")]["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert "ALLOWED_ARTIFACT_ENDPOINTS" not in proxy_env, "nothing new where the release has no allow-list"
        image = objects[("Deployment", "ml-pipeline-ui-artifact")]["spec"]["template"]["spec"]["containers"][0]["image"]
        assert image == "ghcr.io/kubeflow/kfp-frontend:2.16.0"
        compare_with_original(served, answer, original_answer("master", STATIC, env_change=change), added=[])
    finally:
        served.close()


def test_allow_list_passed_on_to_the_artifact_proxy():
    """A newer KFP's controller has ALLOWED_ARTIFACT_ENDPOINTS: each namespace's artifact proxy
    gets it (the proxy has no AWS settings of its own to trust the store by)."""
    allowed = f"https://{ENDPOINT},https://backup.example.com"
    served = Served("master", STATIC, env_change={"ARTIFACTS_PROXY_ENABLED": "true", "ALLOWED_ARTIFACT_ENDPOINTS": allowed})
    try:
        objects = check_common(served, served.sync(), static=True)
        env = objects[("Deployment", "ml-pipeline-ui-artifact")]["spec"]["template"]["spec"]["containers"][0]["env"]
        assert {"name": "ALLOWED_ARTIFACT_ENDPOINTS", "value": allowed} in env
    finally:
        served.close()


def test_master_from_environment():
    served = Served("master", FROM_ENV)
    try:
        answer = served.sync()
        check_common(served, answer, static=False)
        assert served.patched == [("team-a", "default-editor", ROLE)]
        assert "resyncAfterSeconds" not in answer
        assert served.sync(observed=answer["attachments"])["status"] == {"kubeflow-pipelines-ready": "True"}
        # The controller holds no key.
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            assert served.env[name] == ""
    finally:
        served.close()
    # default-editor not there yet: metacontroller is asked to come back.
    served = Served("master", FROM_ENV, patch_ok=False)
    try:
        assert served.sync()["resyncAfterSeconds"] == 30
    finally:
        served.close()


def test_v19_static_keys():
    served = Served("v1.9", STATIC)
    try:
        assert served.sync(enabled=False) == {"status": {}, "children": []}
        answer = served.sync()
        objects = check_common(served, answer, static=True)
        assert ("Deployment", "ml-pipeline-visualizationserver") in objects
        assert objects[("DestinationRule", "ml-pipeline-visualizationserver")]["apiVersion"] == "networking.istio.io/v1alpha3"
        images = {k[1]: o["spec"]["template"]["spec"]["containers"][0]["image"] for k, o in objects.items() if k[0] == "Deployment"}
        assert images == {"ml-pipeline-visualizationserver": "gcr.io/ml-pipeline/visualization-server:2.3.0",
                          "ml-pipeline-ui-artifact": "gcr.io/ml-pipeline/frontend:2.3.0"}
        assert served.sync(observed=answer["children"])["status"] == {"kubeflow-pipelines-ready": "True"}
        compare_with_original(served, answer, original_answer("v1.9", STATIC),
                              added=[("ConfigMap", "kfp-launcher"), ("ConfigMap", "artifact-repositories")])
    finally:
        served.close()


def test_v19_from_environment():
    served = Served("v1.9", FROM_ENV)
    try:
        answer = served.sync()
        objects = check_common(served, answer, static=False)
        assert ("Deployment", "ml-pipeline-ui-artifact") in objects
        assert served.patched == [("team-a", "default-editor", ROLE)]
    finally:
        served.close()


def test_service_account_patched_only_in_profile_namespaces():
    """A request can name any namespace: the script patches default-editor only where the API
    server says the namespace belongs to a Profile and has pipelines enabled."""
    served = Served("master", FROM_ENV)
    served.close()
    module = served.module
    namespaces = {
        "team-a": {"metadata": {"name": "team-a", "labels": {"pipelines.kubeflow.org/enabled": "true"},
                                "ownerReferences": [{"apiVersion": "kubeflow.org/v1", "kind": "Profile", "name": "team-a", "controller": True}]}},
        "kube-system": {"metadata": {"name": "kube-system", "labels": {"pipelines.kubeflow.org/enabled": "true"}}},
        "team-off": {"metadata": {"name": "team-off",
                                  "ownerReferences": [{"apiVersion": "kubeflow.org/v1", "kind": "Profile", "name": "team-off"}]}},
        "fake-owner": {"metadata": {"name": "fake-owner", "labels": {"pipelines.kubeflow.org/enabled": "true"},
                                    "ownerReferences": [{"apiVersion": "evil.example.com/v1", "kind": "Profile", "name": "x"}]}},
    }
    calls = []

    def api(method, path, body=None):
        calls.append((method, path))
        if method == "GET":
            return namespaces.get(path.rsplit("/", 1)[-1])
        return {}

    for ns in namespaces:
        calls.clear()
        assert module.patch_service_account(ns, "default-editor", ROLE, api=api)
        patched = [c for c in calls if c[0] == "PATCH"]
        if ns == "team-a":
            assert patched == [("PATCH", "/api/v1/namespaces/team-a/serviceaccounts/default-editor")], calls
        else:
            assert not patched, (ns, calls)
    calls.clear()
    assert module.patch_service_account("gone", "default-editor", ROLE, api=api), "an unknown namespace is refused, not retried"
    assert [c[0] for c in calls] == ["GET"]


def test_settings_refuse_missing_keys():
    served = Served("master", STATIC)
    served.close()
    env = dict(served.env)
    env.pop("AWS_ACCESS_KEY_ID")
    try:
        served.module.get_settings_from_env(env)
    except ValueError as e:
        assert "AWS_ACCESS_KEY_ID" in str(e)
    else:
        raise AssertionError("a controller without keys must not start")


if __name__ == "__main__":
    raise SystemExit(harness.main(globals()))
