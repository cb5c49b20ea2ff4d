# kubeflow-krm external-object-store: Kubeflow Pipelines profile controller for an external S3 store
#
# The metacontroller sync hook of the Kubeflow Pipelines profile controller, written by the
# kubeflow-krm function external-object-store in place of the upstream sync.py. It serves the hook
# as before (same HTTP server, request and response; CompositeController `parent`/`children` of
# Kubeflow 1.9 and DecoratorController `object`/`attachments` of later releases) and creates the
# same objects in every namespace labelled pipelines.kubeflow.org/enabled=true, pointed at the
# external object store the function configured through the environment of the
# kubeflow-pipelines-profile-controller Deployment:
#
#   OBJECT_STORE_ENDPOINT     host[:port] of the store's S3 API, the port only where it is not
#                             the scheme's default (the KFP UI refuses an AWS endpoint with one)
#   OBJECT_STORE_SECURE       "true": TLS
#   OBJECT_STORE_REGION       the bucket's region
#   OBJECT_STORE_BUCKET       the bucket
#   OBJECT_STORE_CREDENTIALS  "secret": copy the keys of AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY
#                             (or MINIO_ACCESS_KEY / MINIO_SECRET_KEY) into Secret
#                             mlpipeline-minio-artifact of each namespace; "fromEnvironment": no
#                             keys anywhere, the AWS default credential chain
#   OBJECT_STORE_ROOT_QUERY   with fromEnvironment on KFP before 2.17: the query appended to
#                             each s3:// default pipeline root ("?region=...&endpoint=..."); those
#                             launchers ignore the providers then and open the bucket from the
#                             root URL alone (backend/src/v2/objectstore/object_store.go OpenBucket)
#   ALLOWED_ARTIFACT_ENDPOINTS, ALLOWED_GCS_UNIVERSE_DOMAINS  when set (newer KFP releases),
#                             passed on to each namespace's artifact proxy
#   DEFAULT_EDITOR_ANNOTATIONS  JSON map set on ServiceAccount default-editor of each namespace
#                             (IRSA), through the Kubernetes API
#
# It makes no call to the store (no per-namespace IAM keys, no lifecycle rule) and needs nothing
# beyond the Python standard library.
#
# Objects per namespace: Secret mlpipeline-minio-artifact (static keys only); ConfigMaps
# kfp-launcher (defaultPipelineRoot and the store's `providers`), metadata-grpc-configmap and
# artifact-repositories (Argo's default repository for the namespace); with
# ARTIFACTS_PROXY_ENABLED=true the artifact proxy ml-pipeline-ui-artifact (Deployment, Service);
# with VISUALIZATION_SERVER_ENABLED=true the visualization server of Kubeflow 1.9 and 1.10
# (Deployment, Service, DestinationRule, AuthorizationPolicy).

from http.server import BaseHTTPRequestHandler, HTTPServer
import base64
import hashlib
import json
import os
import ssl
import urllib.error
import urllib.parse
import urllib.request

SECRET_NAME = "mlpipeline-minio-artifact"
ACCESS_KEY_KEY = "accesskey"
SECRET_KEY_KEY = "secretkey"
SERVICE_ACCOUNT = "default-editor"
SA_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"
SA_CA = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"
RETRY_SECONDS = 30


def main():
    settings = get_settings_from_env()
    server = server_factory(settings)
    server.serve_forever()


def _normalize_domain(domain):
    return domain if domain.startswith('.') else '.' + domain


def _split_endpoint(endpoint, secure):
    """host and port of host[:port] (an IPv6 host keeps no brackets)."""
    if endpoint.startswith('['):
        close = endpoint.index(']')
        host, rest = endpoint[1:close], endpoint[close + 1:]
        port = rest[1:] if rest.startswith(':') else ''
    elif ':' in endpoint:
        host, port = endpoint.rsplit(':', 1)
    else:
        host, port = endpoint, ''
    return host, port or ('443' if secure else '80')


def get_settings_from_env(environ=None):
    """The controller's settings, from its environment (see the top of the file)."""
    env = os.environ if environ is None else environ
    settings = dict()
    settings["controller_port"] = env.get("CONTROLLER_PORT", "8080")
    settings["frontend_image"] = env.get("FRONTEND_IMAGE", "ghcr.io/kubeflow/kfp-frontend")
    settings["frontend_tag"] = env.get("FRONTEND_TAG") or env.get("KFP_VERSION", "")
    settings["visualization_server_enabled"] = env.get("VISUALIZATION_SERVER_ENABLED", "false").lower() == "true"
    settings["visualization_server_image"] = env.get("VISUALIZATION_SERVER_IMAGE", "ghcr.io/kubeflow/kfp-visualization-server")
    settings["visualization_server_tag"] = env.get("VISUALIZATION_SERVER_TAG") or env.get("KFP_VERSION", "")
    settings["disable_istio_sidecar"] = env.get("DISABLE_ISTIO_SIDECAR") == "true"
    settings["artifacts_proxy_enabled"] = env.get("ARTIFACTS_PROXY_ENABLED", "false").lower() == "true"
    settings["cluster_domain"] = env.get("CLUSTER_DOMAIN", ".svc.cluster.local")
    settings["default_pipeline_root"] = env.get("KFP_DEFAULT_PIPELINE_ROOT", "")

    secure = env.get("OBJECT_STORE_SECURE", "true").lower() == "true"
    endpoint = env.get("OBJECT_STORE_ENDPOINT", "")
    if not endpoint:
        raise ValueError("OBJECT_STORE_ENDPOINT is not set: the external object store's host[:port]")
    host, port = _split_endpoint(endpoint, secure)
    settings["endpoint"] = endpoint
    settings["host"] = host
    settings["port"] = port
    settings["secure"] = secure
    settings["region"] = env.get("OBJECT_STORE_REGION", "us-east-1")
    for name, key in PASSED_ON:
        settings[key] = env.get(name, "")
    settings["root_query"] = env.get("OBJECT_STORE_ROOT_QUERY", "")
    if settings["root_query"] and not settings["root_query"].startswith("?"):
        raise ValueError("OBJECT_STORE_ROOT_QUERY must start with '?'")
    settings["bucket"] = env.get("OBJECT_STORE_BUCKET", "mlpipeline")

    mode = env.get("OBJECT_STORE_CREDENTIALS", "secret")
    if mode not in ("secret", "fromEnvironment"):
        raise ValueError("OBJECT_STORE_CREDENTIALS is %r: expected secret or fromEnvironment" % mode)
    settings["from_environment"] = mode == "fromEnvironment"
    settings["access_key"] = None
    settings["secret_key"] = None
    if not settings["from_environment"]:
        access_key = env.get("AWS_ACCESS_KEY_ID") or env.get("MINIO_ACCESS_KEY")
        secret_key = env.get("AWS_SECRET_ACCESS_KEY") or env.get("MINIO_SECRET_KEY")
        if not access_key or not secret_key:
            raise ValueError("static keys: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
                             "(or MINIO_ACCESS_KEY and MINIO_SECRET_KEY) must be set")
        settings["access_key"] = base64.b64encode(access_key.encode('utf-8')).decode('utf-8')
        settings["secret_key"] = base64.b64encode(secret_key.encode('utf-8')).decode('utf-8')
    annotations = env.get("DEFAULT_EDITOR_ANNOTATIONS", "")
    settings["default_editor_annotations"] = json.loads(annotations) if annotations else {}
    return settings


def pipeline_root(settings, namespace):
    """The namespace's default pipeline root: KFP_DEFAULT_PIPELINE_ROOT, else the namespace's
    prefix on the bucket; with OBJECT_STORE_ROOT_QUERY, an s3:// or minio:// root without a query
    of its own gets it."""
    root = settings["default_pipeline_root"] or f"s3://{settings['bucket']}/private-artifacts/{namespace}/v2/artifacts"
    if settings["root_query"] and root.startswith(("s3://", "minio://")) and "?" not in root:
        root += settings["root_query"]
    return root


def providers_yaml(settings, secret_name, access_key_key, secret_key_key):
    """The kfp-launcher `providers` document: the store as default of s3:// and minio:// roots."""
    q = json.dumps
    lines = []
    for provider in ("s3", "minio"):
        lines += [
            provider + ":",
            "  default:",
            "    endpoint: " + q(settings["endpoint"]),
            "    region: " + q(settings["region"]),
            "    disableSSL: " + ("false" if settings["secure"] else "true"),
            "    forcePathStyle: true",
            "    credentials:",
        ]
        if settings["from_environment"]:
            lines.append("      fromEnv: true")
        else:
            lines += [
                "      fromEnv: false",
                "      secretRef:",
                "        secretName: " + q(secret_name),
                "        accessKeyKey: " + q(access_key_key),
                "        secretKeyKey: " + q(secret_key_key),
            ]
    return "\n".join(lines) + "\n"


# Settings of newer KFP frontends that the controller passes on to each namespace's artifact proxy
# when it has them (kubeflow/pipelines#14349: the origins the proxy may read artifacts from).
PASSED_ON = (("ALLOWED_ARTIFACT_ENDPOINTS", "allowed_artifact_endpoints"),
             ("ALLOWED_GCS_UNIVERSE_DOMAINS", "allowed_gcs_universe_domains"))


def store_env(settings):
    """The environment of a KFP frontend (the artifact proxy) reading the store."""
    if settings["from_environment"]:
        keys = [{"name": n, "value": ""} for n in
                ("MINIO_ACCESS_KEY", "MINIO_SECRET_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")]
    else:
        ref = lambda n, k: {"name": n, "valueFrom": {"secretKeyRef": {"key": k, "name": SECRET_NAME}}}
        keys = [ref("MINIO_ACCESS_KEY", ACCESS_KEY_KEY), ref("MINIO_SECRET_KEY", SECRET_KEY_KEY),
                ref("AWS_ACCESS_KEY_ID", ACCESS_KEY_KEY), ref("AWS_SECRET_ACCESS_KEY", SECRET_KEY_KEY)]
    secure = "true" if settings["secure"] else "false"
    env = keys + [
        {"name": "MINIO_HOST", "value": settings["host"]},
        {"name": "MINIO_PORT", "value": settings["port"]},
        {"name": "MINIO_SSL", "value": secure},
        {"name": "MINIO_NAMESPACE", "value": ""},
        {"name": "AWS_S3_ENDPOINT", "value": settings["host"]},
        {"name": "AWS_REGION", "value": settings["region"]},
        {"name": "AWS_SSL", "value": secure},
        {"name": "ARGO_ARCHIVE_BUCKETNAME", "value": settings["bucket"]},
    ]
    if settings["port"] != ("443" if settings["secure"] else "80"):
        # Read by KFP UIs after 2.17 only; a default port needs no saying.
        env.append({"name": "AWS_S3_PORT", "value": settings["port"]})
    return env + [{"name": n, "value": settings[k]} for n, k in PASSED_ON if settings[k]]


def _api_version(types, kind, default):
    """The apiVersion the controller declares for a kind (`DestinationRule.networking.istio.io/v1alpha3`)."""
    for key in types:
        if key.startswith(kind + "."):
            return key[len(kind) + 1:]
    return default


def desired_resources(settings, namespace, types=()):
    """Every object the namespace gets, the Secret last (it is never logged)."""
    cluster_domain = settings["cluster_domain"]
    bucket = settings["bucket"]
    sidecar = {"sidecar.istio.io/inject": "false"} if settings["disable_istio_sidecar"] else {}
    if settings["from_environment"]:
        credentials = {"useSDKCreds": True}
    else:
        credentials = {
            "accessKeySecret": {"name": SECRET_NAME, "key": ACCESS_KEY_KEY},
            "secretKeySecret": {"name": SECRET_NAME, "key": SECRET_KEY_KEY},
        }
    s3 = {
        "endpoint": settings["endpoint"],
        "bucket": bucket,
        "keyFormat": f"private-artifacts/{namespace}/{{{{workflow.name}}}}/{{{{workflow.creationTimestamp.Y}}}}/{{{{workflow.creationTimestamp.m}}}}/{{{{workflow.creationTimestamp.d}}}}/{{{{pod.name}}}}",
        "insecure": not settings["secure"],
        "region": settings["region"],
    }
    s3.update(credentials)
    resources = [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "kfp-launcher", "namespace": namespace},
            "data": {
                "defaultPipelineRoot": pipeline_root(settings, namespace),
                "providers": providers_yaml(settings, SECRET_NAME, ACCESS_KEY_KEY, SECRET_KEY_KEY),
                "clusterDomain": cluster_domain,
            },
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "metadata-grpc-configmap", "namespace": namespace},
            "data": {
                "METADATA_GRPC_SERVICE_HOST": "metadata-grpc-service.kubeflow",
                "METADATA_GRPC_SERVICE_PORT": "8080",
            },
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": "artifact-repositories",
                "namespace": namespace,
                "annotations": {"workflows.argoproj.io/default-artifact-repository": "default-namespaced"},
            },
            "data": {"default-namespaced": json.dumps({"archiveLogs": True, "s3": s3})},
        },
    ]

    if settings["visualization_server_enabled"]:
        image = f"{settings['visualization_server_image']}:{settings['visualization_server_tag']}"
        resources += [
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {
                    "labels": {"app": "ml-pipeline-visualizationserver"},
                    "name": "ml-pipeline-visualizationserver",
                    "namespace": namespace,
                },
                "spec": {
                    "selector": {"matchLabels": {"app": "ml-pipeline-visualizationserver"}},
                    "template": {
                        "metadata": {"labels": {"app": "ml-pipeline-visualizationserver"}, "annotations": dict(sidecar)},
                        "spec": {
                            "containers": [{
                                "image": image,
                                "imagePullPolicy": "IfNotPresent",
                                "name": "ml-pipeline-visualizationserver",
                                "ports": [{"containerPort": 8888}],
                                "resources": {
                                    "requests": {"cpu": "50m", "memory": "200Mi"},
                                    "limits": {"cpu": "500m", "memory": "1Gi"},
                                },
                            }],
                            "serviceAccountName": SERVICE_ACCOUNT,
                        },
                    },
                },
            },
            {
                "apiVersion": _api_version(types, "DestinationRule", "networking.istio.io/v1alpha3"),
                "kind": "DestinationRule",
                "metadata": {"name": "ml-pipeline-visualizationserver", "namespace": namespace},
                "spec": {"host": "ml-pipeline-visualizationserver", "trafficPolicy": {"tls": {"mode": "ISTIO_MUTUAL"}}},
            },
            {
                "apiVersion": _api_version(types, "AuthorizationPolicy", "security.istio.io/v1beta1"),
                "kind": "AuthorizationPolicy",
                "metadata": {"name": "ml-pipeline-visualizationserver", "namespace": namespace},
                "spec": {
                    "selector": {"matchLabels": {"app": "ml-pipeline-visualizationserver"}},
                    "rules": [{"from": [{"source": {"principals": ["cluster.local/ns/kubeflow/sa/ml-pipeline"]}}]}],
                },
            },
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "ml-pipeline-visualizationserver", "namespace": namespace},
                "spec": {
                    "ports": [{"name": "http", "port": 8888, "protocol": "TCP", "targetPort": 8888}],
                    "selector": {"app": "ml-pipeline-visualizationserver"},
                },
            },
        ]

    if settings["artifacts_proxy_enabled"]:
        image = f"{settings['frontend_image']}:{settings['frontend_tag']}"
        annotations = dict(sidecar)
        annotations["kubeflow-pipelines/image-spec-hash"] = hashlib.sha256(image.encode()).hexdigest()[:16]
        resources += [
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"labels": {"app": "ml-pipeline-ui-artifact"}, "name": "ml-pipeline-ui-artifact", "namespace": namespace},
                "spec": {
                    "selector": {"matchLabels": {"app": "ml-pipeline-ui-artifact"}},
                    "template": {
                        "metadata": {"labels": {"app": "ml-pipeline-ui-artifact"}, "annotations": annotations},
                        "spec": {
                            "containers": [{
                                "name": "ml-pipeline-ui-artifact",
                                "image": image,
                                "imagePullPolicy": "IfNotPresent",
                                "ports": [{"containerPort": 3000}],
                                "env": store_env(settings) + [
                                    {"name": "ML_PIPELINE_SERVICE_HOST", "value": f"ml-pipeline.kubeflow{_normalize_domain(cluster_domain)}"},
                                    {"name": "ML_PIPELINE_SERVICE_PORT", "value": "8888"},
                                    {"name": "FRONTEND_SERVER_NAMESPACE", "value": namespace},
                                    {"name": "CLUSTER_DOMAIN", "value": cluster_domain},
                                ],
                                "resources": {
                                    "requests": {"cpu": "10m", "memory": "70Mi"},
                                    "limits": {"cpu": "100m", "memory": "500Mi"},
                                },
                            }],
                            "serviceAccountName": SERVICE_ACCOUNT,
                        },
                    },
                },
            },
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "ml-pipeline-ui-artifact", "namespace": namespace, "labels": {"app": "ml-pipeline-ui-artifact"}},
                "spec": {
                    # A named port lets Istio know the protocol.
                    "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 3000}],
                    "selector": {"app": "ml-pipeline-ui-artifact"},
                },
            },
        ]

    if not settings["from_environment"]:
        resources.append({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": SECRET_NAME, "namespace": namespace},
            "data": {ACCESS_KEY_KEY: settings["access_key"], SECRET_KEY_KEY: settings["secret_key"]},
        })
    return resources


def kube_api(method, path, body=None):
    """One request to the Kubernetes API as this pod's ServiceAccount: the decoded answer, or
    None (printed) when it fails."""
    host = os.environ.get("KUBERNETES_SERVICE_HOST")
    if not host:
        print("cannot %s %s: not running in a cluster" % (method, path))
        return None
    if ':' in host:
        host = '[' + host + ']'
    port = os.environ.get("KUBERNETES_SERVICE_PORT", "443")
    try:
        with open(SA_TOKEN) as f:
            token = f.read().strip()
        headers = {"Authorization": "Bearer " + token, "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode('utf-8')
            headers["Content-Type"] = "application/merge-patch+json"
        request = urllib.request.Request("https://%s:%s%s" % (host, port, path), data=data, method=method, headers=headers)
        with urllib.request.urlopen(request, context=ssl.create_default_context(cafile=SA_CA), timeout=10) as answer:
            return json.loads(answer.read() or b"{}")
    except (OSError, urllib.error.URLError, ValueError) as e:
        print("cannot %s %s: %s" % (method, path, e))
        return None


def is_profile_namespace(namespace, api=kube_api):
    """True if the API server says the namespace belongs to a Kubeflow Profile (an owner
    reference of kind Profile in the kubeflow.org group, which the profile controller sets on the
    namespaces it creates) and has pipelines enabled.

    The trust model: this hook answers whoever reaches its port, and a request can name any
    namespace, so the request is never trusted for the one thing that acts on the cluster (the
    ServiceAccount patch): the namespace is read back from the API server first."""
    ns = api("GET", "/api/v1/namespaces/%s" % urllib.parse.quote(namespace, safe=''))
    if not ns:
        return False
    metadata = ns.get("metadata") or {}
    owned = any(r.get("kind") == "Profile" and str(r.get("apiVersion", "")).startswith("kubeflow.org/")
                for r in metadata.get("ownerReferences") or [])
    return owned and (metadata.get("labels") or {}).get("pipelines.kubeflow.org/enabled") == "true"


def patch_service_account(namespace, name, annotations, api=kube_api):
    """Merges annotations into a ServiceAccount of a profile namespace through the Kubernetes
    API; True when done (or refused for good: not a profile namespace), False to retry."""
    if not is_profile_namespace(namespace, api):
        print("not annotating ServiceAccount %s/%s: the namespace is not owned by a Kubeflow Profile" % (namespace, name))
        return True
    path = "/api/v1/namespaces/%s/serviceaccounts/%s" % (
        urllib.parse.quote(namespace, safe=''), urllib.parse.quote(name, safe=''))
    return api("PATCH", path, {"metadata": {"annotations": annotations}}) is not None


def sync(settings, request, patch=patch_service_account):
    """The answer to one sync request of a CompositeController or a DecoratorController."""
    if "parent" in request:
        parent, observed, key = request["parent"], request.get("children") or {}, "children"
    else:
        parent, observed, key = request["object"], request.get("attachments") or {}, "attachments"
    metadata = parent.get("metadata", {})
    namespace = metadata.get("name")
    if (metadata.get("labels") or {}).get("pipelines.kubeflow.org/enabled") != "true":
        return {"status": {}, key: []}

    resources = desired_resources(settings, namespace, observed.keys())

    # Ready once the namespace holds as many objects of each kind as desired.
    wanted, have = {}, {}
    for r in resources:
        wanted[r["kind"]] = wanted.get(r["kind"], 0) + 1
    for type_key, objects in observed.items():
        kind = type_key.split(".", 1)[0]
        have[kind] = have.get(kind, 0) + len(objects or {})
    ready = all(have.get(kind, 0) == n for kind, n in wanted.items())
    response = {"status": {"kubeflow-pipelines-ready": "True" if ready else "False"}, key: resources}

    print('Received request:\n', json.dumps(parent, sort_keys=True))
    print('Desired resources except secrets:\n',
          json.dumps([r for r in resources if r["kind"] != "Secret"], sort_keys=True))

    annotations = settings["default_editor_annotations"]
    if annotations and not patch(namespace, SERVICE_ACCOUNT, annotations):
        # default-editor may not exist yet: ask metacontroller to come back soon.
        response["resyncAfterSeconds"] = RETRY_SECONDS
    return response


def server_factory(settings, url="", patch=patch_service_account):
    """An HTTPServer serving the sync hook with these settings."""
    class Controller(BaseHTTPRequestHandler):
        def do_POST(self):
            # Serve sync() as a JSON webhook.
            observed = json.loads(self.rfile.read(int(self.headers.get("content-length"))))
            desired = sync(settings, observed, patch)

            self.send_response(200)
            self.send_header("Content-type", "application/json")
            self.end_headers()
            self.wfile.write(bytes(json.dumps(desired), 'utf-8'))

    return HTTPServer((url, int(settings["controller_port"])), Controller)


if __name__ == "__main__":
    main()
