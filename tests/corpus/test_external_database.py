"""external-database over the real Kubeflow master render (with Model Registry's shapes added,
since the example render has no Model Registry), and in the chain with centralize-credentials."""
import json
import os
import re

import yaml

import harness
from harness import assert_only, is_kind, run_function

HOST, PORT = "mysql.example.com", "3307"
CENTRAL = "kubeflow-credentials"
FN = {"apiVersion": "fn.kubeflow-krm.dev/v1alpha1", "kind": "ExternalDatabase", "metadata": {"name": "x"},
      "host": HOST, "port": int(PORT), "credentials": {"secretName": CENTRAL}}
CC = {"apiVersion": "fn.kubeflow-krm.dev/v1alpha1", "kind": "CentralizeCredentials", "metadata": {"name": "y"},
      "secretName": CENTRAL}
DATABASES = {"pipelines": "mlpipeline", "cache": "cachedb", "metadata": "metadb", "katib": "katib",
             "modelRegistry": "model_registry"}
BUNDLED = ("mysql", "katib-mysql", "model-registry-db")
# What the function deletes on the master render (facts §4, §10.5), and with Model Registry.
REMOVED_MASTER = {("Deployment", "mysql"), ("Service", "mysql"), ("PersistentVolumeClaim", "mysql-pv-claim"),
                  ("ServiceAccount", "mysql"), ("AuthorizationPolicy", "mysql"),
                  ("DestinationRule", "ml-pipeline-mysql"), ("Deployment", "katib-mysql"),
                  ("Service", "katib-mysql"), ("PersistentVolumeClaim", "katib-mysql"),
                  ("Secret", "mysql-secret"), ("Secret", "katib-mysql-secrets")}
REMOVED_MR = {("Deployment", "model-registry-db"), ("Service", "model-registry-db"),
              ("PersistentVolumeClaim", "metadata-mysql"), ("Secret", "model-registry-db-secrets"),
              ("ConfigMap", "model-registry-db-parameters")}
CLIENTS = {"ml-pipeline", "cache-server", "metadata-grpc-deployment", "katib-db-manager",
           "model-registry-deployment"}
# A bundled Service as a host: `mysql`, `mysql.kubeflow`, `mysql.kubeflow.svc.cluster.local`.
IN_CLUSTER = re.compile(r"^(%s)(\.[a-z0-9-]+(\.svc(\.cluster\.local)?)?)?$" % "|".join(re.escape(h) for h in BUNDLED))
SECRET_VALUES = ["dGVzdA==", "cm9vdA==", "minio123"]
FIXTURES = os.path.join(harness.ROOT, "tests", "fixtures")


def fixture_docs(name):
    with open(os.path.join(FIXTURES, name), encoding="utf-8") as f:
        text = f.read()
    docs = []
    for doc in text.split("\n---\n"):
        docs.append("\n".join(l for l in doc.split("\n") if not l.startswith("#")))
    return [d for d in docs if d.strip()]


def pod_spec(item):
    spec = item.get("spec") or {}
    if item.get("kind") in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"):
        return (spec.get("template") or {}).get("spec") or {}
    return None


def containers(item):
    spec = pod_spec(item) or {}
    return (spec.get("initContainers") or []) + (spec.get("containers") or [])


class Resolver:
    """Expands what a container sees: env values (literal, ConfigMap keys, envFrom ConfigMaps) and
    `$(VAR)` in its arguments, from the items after the run."""

    def __init__(self, items):
        self.config_maps = {i["metadata"]["name"]: i.get("data") or {} for i in items if i.get("kind") == "ConfigMap"}

    def env(self, container):
        out = {}
        for source in container.get("envFrom") or []:
            ref = source.get("configMapRef")
            if ref:
                for k, v in self.config_maps.get(ref["name"], {}).items():
                    out[(source.get("prefix") or "") + k] = v
        for e in container.get("env") or []:
            if "value" in e:
                out[e["name"]] = e["value"]
            ref = (e.get("valueFrom") or {}).get("configMapKeyRef")
            if ref:
                out[e["name"]] = self.config_maps.get(ref["name"], {}).get(ref["key"], "<missing %s>" % ref["key"])
            if (e.get("valueFrom") or {}).get("secretKeyRef"):
                out[e["name"]] = "<secret>"
        return out

    def expand(self, container, text):
        env = self.env(container)
        return re.sub(r"\$\(([A-Za-z0-9_]+)\)", lambda m: env.get(m.group(1), m.group(0)), text)

    def flag(self, container, name):
        for a in container.get("args") or []:
            if a.startswith(name + "="):
                return self.expand(container, a[len(name) + 1:])
        return None


def connection_of(run, name):
    """(host, port, database) each database client of a workload connects to, per container."""
    item = run.item("Deployment", name)
    r = Resolver(run.after)
    found = []
    for c in containers(item):
        env = r.env(c)
        if name == "ml-pipeline":
            found.append((env.get("DBCONFIG_MYSQLCONFIG_HOST"), env.get("DBCONFIG_MYSQLCONFIG_PORT"),
                          env.get("DBCONFIG_MYSQLCONFIG_DBNAME")))
            # The relic variables are not read by KFP 2.16, but must not point at the old server.
            found.append((env.get("DBCONFIG_HOST"), env.get("DBCONFIG_PORT"), env.get("DBCONFIG_DBNAME")))
        elif name == "cache-server":
            found.append((r.flag(c, "--db_host"), r.flag(c, "--db_port"), r.flag(c, "--db_name")))
        elif name == "metadata-grpc-deployment" or r.flag(c, "--mysql_config_host"):
            found.append((r.flag(c, "--mysql_config_host"), r.flag(c, "--mysql_config_port"),
                          r.flag(c, "--mysql_config_database")))
        elif name == "katib-db-manager":
            found.append((env.get("KATIB_MYSQL_DB_HOST"), env.get("KATIB_MYSQL_DB_PORT"),
                          env.get("KATIB_MYSQL_DB_DATABASE")))
        elif r.flag(c, "--embedmd-database-dsn"):
            dsn = r.flag(c, "--embedmd-database-dsn")
            m = re.search(r"@tcp\(([^:)]+):([^)]+)\)/([^?]+)", dsn)
            assert m, dsn
            found.append(m.groups())
    return found


def check_clients(run, expect):
    """Every client connects to HOST:PORT with its configured database."""
    for name, database in expect.items():
        for host, port, db in connection_of(run, name):
            assert (host, port, db) == (HOST, PORT, database), f"{name}: {(host, port, db)}"


def check_no_bundled_hosts(run):
    """No client, ConfigMap value, argument or DSN names a bundled server any more."""
    pattern = re.compile(r"(?<![\w.-])(%s)(?![\w-])" % "|".join(re.escape(h) for h in BUNDLED[1:]))
    r = Resolver(run.after)
    for item in run.after:
        kind = item.get("kind")
        if kind == "ConfigMap":
            for k, v in (item.get("data") or {}).items():
                assert not pattern.search(str(v)), f"ConfigMap {item['metadata']['name']}.{k}: {v[:200]}"
            if item["metadata"]["name"] == "pipeline-install-config":
                for key in ("dbHost", "mysqlHost"):
                    assert item["data"][key] == HOST
        for c in containers(item):
            texts = [r.expand(c, a) for a in (c.get("args") or []) + (c.get("command") or [])]
            texts += [str(v) for v in r.env(c).values()]
            for t in texts:
                assert not pattern.search(t), f"{item['metadata']['name']}/{c['name']}: {t[:200]}"
                assert not re.search(r"tcp\(mysql[:)]|(^|=)mysql(\.kubeflow[\w.]*)?(:\d+)?$", t) or t in ("mysql", "--db_driver=mysql"), \
                    f"{item['metadata']['name']}/{c['name']}: {t[:200]}"
    for name in CLIENTS:
        if any(i.get("kind") == "Deployment" and i["metadata"]["name"] == name for i in run.after):
            for host, _, _ in connection_of(run, name):
                assert not IN_CLUSTER.match(host or ""), (name, host)


def check_no_leaks(run):
    for r in run.results:
        for value in SECRET_VALUES:
            assert value not in r["message"], f"a result carries a secret value: {r['message']}"
    for value in SECRET_VALUES:
        assert value not in run.stderr


def removed(run):
    return {(i[1], i[3]) for i in run.removed}


def is_client(ident):
    return ident[3] in CLIENTS or ident[3] == "pipeline-install-config"


def test_master_every_client_moves_and_the_bundled_servers_go():
    run = run_function("external-database", FN)
    assert removed(run) == REMOVED_MASTER, sorted(removed(run) ^ REMOVED_MASTER)
    assert_only(run, changed=[is_client], removed=[lambda i: (i[1], i[3]) in REMOVED_MASTER])
    assert sorted(i[3] for i in run.changed) == sorted(CLIENTS - {"model-registry-deployment"} | {"pipeline-install-config"})
    check_clients(run, {"ml-pipeline": "mlpipeline", "cache-server": "cachedb", "metadata-grpc-deployment": "metadb",
                        "katib-db-manager": "katib"})
    check_no_bundled_hosts(run)
    check_no_leaks(run)
    # Both key pairs, as strings; every other key of the ConfigMap unchanged.
    before = run.item("ConfigMap", "pipeline-install-config", False)["data"]
    after = run.item("ConfigMap", "pipeline-install-config")["data"]
    assert {k: v for k, v in after.items() if before[k] != v} == {
        "dbHost": HOST, "mysqlHost": HOST, "dbPort": PORT, "mysqlPort": PORT}
    # User and password from the central Secret, Katib included.
    katib = run.item("Deployment", "katib-db-manager")["spec"]["template"]["spec"]["containers"][0]["env"]
    assert [e["name"] for e in katib] == ["DB_NAME", "DB_PASSWORD", "DB_USER", "KATIB_MYSQL_DB_HOST",
                                          "KATIB_MYSQL_DB_PORT", "KATIB_MYSQL_DB_DATABASE"]
    for e in katib[1:3]:
        assert e["valueFrom"]["secretKeyRef"]["name"] == CENTRAL
    # An info per field changed and per object removed; Katib's database must exist.
    infos = run.results_of("info")
    assert {(r["resourceRef"]["kind"], r["resourceRef"]["name"]) for r in infos
            if r["message"].startswith("deleted")} == REMOVED_MASTER
    warnings = [r["message"] for r in run.results_of("warning")]
    assert len(warnings) == 1 and "does not create its database" in warnings[0], warnings


def test_master_without_removal_only_the_clients_move():
    run = run_function("external-database", dict(FN, removeInCluster=False))
    assert not run.removed and not run.added
    assert_only(run, changed=[is_client])
    check_clients(run, {"ml-pipeline": "mlpipeline", "cache-server": "cachedb", "metadata-grpc-deployment": "metadb",
                        "katib-db-manager": "katib"})
    # The servers are untouched, credentials included.
    for name in ("mysql", "katib-mysql"):
        assert run.item("Deployment", name) == run.item("Deployment", name, False)


def test_master_tls():
    run = run_function("external-database", dict(FN, tls={"mode": "verify-ca", "caSecret": "database-ca", "plaintext": ["metadata", "katib", "modelRegistry"]}))
    api = run.item("Deployment", "ml-pipeline")["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value") for e in api["env"]}
    assert json.loads(env["DBCONFIG_MYSQLCONFIG_EXTRAPARAMS"]) == {"tls": "true"}
    assert env["SSL_CERT_DIR"] == "/etc/ssl/certs:/etc/external-database-ca"
    cache = run.item("Deployment", "cache-server")["spec"]["template"]["spec"]["containers"][0]
    assert '--db_extra_params={"tls":"true"}' in cache["args"]
    warned = sorted(r["resourceRef"]["name"] for r in run.results_of("warning") if r["message"].startswith("tls:"))
    assert warned == ["katib-db-manager", "metadata-grpc-deployment"], warned


def test_model_registry_db_overlay():
    docs = harness.corpus_docs() + fixture_docs("model-registry.yaml")
    run = run_function("external-database", FN, docs=docs)
    assert removed(run) == REMOVED_MASTER | REMOVED_MR, sorted(removed(run) ^ (REMOVED_MASTER | REMOVED_MR))
    assert_only(run, changed=[is_client], removed=[lambda i: (i[1], i[3]) in REMOVED_MASTER | REMOVED_MR])
    check_clients(run, {"ml-pipeline": "mlpipeline", "cache-server": "cachedb", "metadata-grpc-deployment": "metadb",
                        "katib-db-manager": "katib", "model-registry-deployment": "model_registry"})
    check_no_bundled_hosts(run)
    check_no_leaks(run)
    server = run.item("Deployment", "model-registry-deployment")["spec"]["template"]
    # The DSN keeps its $(VAR) references; the sidecar bypass follows the port.
    dsn = [a for a in server["spec"]["containers"][0]["args"] if a.startswith("--embedmd-database-dsn=")][0]
    assert dsn == ("--embedmd-database-dsn=$(MYSQL_USER_NAME):$(MYSQL_ROOT_PASSWORD)@tcp(" + HOST
                   + ":$(MYSQL_PORT))/$(MYSQL_DATABASE)?charset=utf8mb4"), dsn
    assert server["metadata"]["annotations"]["traffic.sidecar.istio.io/excludeOutboundPorts"] == PORT


def test_model_registry_two_container_and_base_shapes():
    for fixture, expect in (("database-model-registry-v1.10.yaml", "model_registry"),
                            ("database-model-registry-base.yaml", "model_registry")):
        run = run_function("external-database", FN, docs=fixture_docs(fixture))
        check_clients(run, {"model-registry-deployment": expect})
        check_no_bundled_hosts(run)
        assert not any(i[1] == "Deployment" and i[3] in BUNDLED for i in run.after_by_id), fixture


def test_emitted_databases_are_the_configured_ones():
    custom = {"pipelines": "kfp", "cache": "kfp_cache", "metadata": "kfp_mlmd", "katib": "hpo", "modelRegistry": "registry"}
    for databases in (DATABASES, custom):
        config = dict(FN, databases=databases,
                      mariadbOperator={"mariaDbRef": {"name": "mariadb", "namespace": "databases"}, "username": "kubeflow"})
        run = run_function("external-database", config, docs=harness.corpus_docs() + fixture_docs("model-registry.yaml"))
        emitted = {i["spec"]["name"] for i in run.after if i.get("kind") == "Database"}
        install = run.item("ConfigMap", "pipeline-install-config")["data"]
        configured = {install["pipelineDb"], install["cacheDb"], install["mlmdDb"]}
        for host, port, db in connection_of(run, "katib-db-manager") + connection_of(run, "model-registry-deployment"):
            configured.add(db)
        assert emitted == configured == set(databases.values()), (emitted, configured)
        grants = {i["spec"]["database"] for i in run.after if i.get("kind") == "Grant"}
        assert grants == emitted
        users = [i for i in run.after if i.get("kind") == "User"]
        assert len(users) == 1 and users[0]["spec"]["passwordSecretKeyRef"] == {"key": "db-password", "name": CENTRAL}
        assert {i["metadata"]["namespace"] for i in run.after if i["apiVersion"].startswith("k8s.mariadb.com/")} == {"kubeflow"}
        assert_only(run, changed=[is_client], removed=[lambda i: (i[1], i[3]) in REMOVED_MASTER | REMOVED_MR],
                    added=[is_kind("Database"), is_kind("User"), is_kind("Grant")])


def _run_chain(first, second, docs):
    """Runs two functions in sequence, the second on the first's output items."""
    code, out, err = harness._run_binary(first[0], harness.resource_list_text(docs, first[1]))
    assert code == 0, err
    head = out.split("\nfunctionConfig:")[0]
    code, out, err = harness._run_binary(second[0], head + "\nfunctionConfig: " + json.dumps(second[1]) + "\n")
    assert code == 0, err
    return yaml.load(out, Loader=harness.LOADER)["items"]


def test_chain_with_centralize_credentials_in_either_order():
    docs = harness.corpus_docs() + fixture_docs("model-registry.yaml")
    for remove in (True, False):
        ed = ("external-database", dict(FN, removeInCluster=remove, tls={"mode": "required", "plaintext": ["metadata", "katib", "modelRegistry"]}))
        cc = ("centralize-credentials", CC)
        a = _run_chain(cc, ed, docs)
        b = _run_chain(ed, cc, docs)
        diff = harness.first_difference(a, b)
        assert diff is None, f"removeInCluster {remove}: the order matters: {diff}"
        assert not any(i.get("kind") == "Secret" and i["metadata"]["name"] in ("mysql-secret", "katib-mysql-secrets")
                       for i in a)


if __name__ == "__main__":
    raise SystemExit(harness.main(globals()))
