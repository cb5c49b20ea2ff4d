"""external-identity-provider over the real Kubeflow master render, alone and in the recommended
chain: no value of any Secret of the render survives (plain or base64), and no pod reads a
Secret that nothing provides."""
import base64
import os
import subprocess

import yaml

import harness
from harness import run_function

BINARY = "external-identity-provider"
DEX = "http://dex.auth.svc.cluster.local:5556/dex"


def shipped_config():
    """fn-configs/external-identity-provider.yaml: dex with a GitHub connector."""
    with open(os.path.join(harness.ROOT, "fn-configs", BINARY + ".yaml"), encoding="utf-8") as f:
        return yaml.load(f, Loader=harness.LOADER)


def oidc_config():
    config = shipped_config()
    del config["dex"]
    config.update(mode="oidc", oidc={"issuer": "https://accounts.google.com",
                                     "redirectUrl": "https://kubeflow.example.com/oauth2/callback",
                                     "audiences": ["0123456789-abcdef.apps.googleusercontent.com"]})
    return config


def secret_values(items):
    """Every value of every Secret, as written and decoded; short ones are too common to search."""
    values = set()
    for item in items:
        if item.get("kind") != "Secret":
            continue
        for v in (item.get("data") or {}).values():
            if isinstance(v, str):
                values.add(v)
                try:
                    values.add(base64.b64decode(v).decode())
                except (ValueError, UnicodeDecodeError):
                    pass
        for v in (item.get("stringData") or {}).values():
            if isinstance(v, str):
                values.add(v)
    return {v for v in values if len(v) >= 8}


def pod_secret_reads(item):
    """(namespace, Secret name) of every Secret a workload's pod template reads."""
    spec = item.get("spec") or {}
    template = (spec.get("jobTemplate") or {}).get("spec", {}).get("template") if item["kind"] == "CronJob" else spec.get("template")
    pod = (template or {}).get("spec") if item["kind"] != "Pod" else spec
    if not isinstance(pod, dict):
        return
    ns = item["metadata"].get("namespace")
    for c in (pod.get("containers") or []) + (pod.get("initContainers") or []):
        for e in c.get("env") or []:
            ref = ((e.get("valueFrom") or {}).get("secretKeyRef") or {})
            if ref.get("name") and not ref.get("optional"):
                yield ns, ref["name"]
        for e in c.get("envFrom") or []:
            ref = e.get("secretRef") or {}
            if ref.get("name") and not ref.get("optional"):
                yield ns, ref["name"]
    for v in pod.get("volumes") or []:
        ref = v.get("secret") or {}
        if ref.get("secretName") and not ref.get("optional"):
            yield ns, ref["secretName"]


def provided_secrets(items):
    """Secrets that exist after applying: objects, ExternalSecret targets, cert-manager outputs."""
    out = set()
    for i in items:
        ns = i["metadata"].get("namespace")
        if i["kind"] == "Secret":
            out.add((ns, i["metadata"]["name"]))
        elif i["kind"] == "ExternalSecret":
            out.add((ns, ((i.get("spec") or {}).get("target") or {}).get("name") or i["metadata"]["name"]))
        elif i["kind"] == "Certificate":
            out.add((ns, (i.get("spec") or {}).get("secretName")))
    return out


def test_dex_mode_rewires_login_and_removes_public_secrets():
    run = run_function(BINARY, shipped_config())
    removed = {i[3] for i in run.removed}
    assert {"dex-oidc-client", "dex-passwords"} <= removed, removed
    assert any(n.startswith("oauth2-proxy-") for n in removed), removed
    dex_cm = next(i for i in run.after if i["kind"] == "ConfigMap" and i["metadata"]["name"] == "dex")
    config = yaml.safe_load(dex_cm["data"]["config.yaml"])
    assert config["issuer"] == "https://kubeflow.example.com/dex"
    assert "staticPasswords" not in config and "enablePasswordDB" not in config
    assert config["connectors"][0]["config"]["clientSecret"] == "$DEX_GITHUB_CLIENT_SECRET"
    ra = next(i for i in run.after if i["kind"] == "RequestAuthentication" and i["metadata"]["name"] == "dex-jwt")
    assert ra["spec"]["jwtRules"][0]["issuer"] == "https://kubeflow.example.com/dex"
    assert ra["spec"]["jwtRules"][0]["jwksUri"] == DEX + "/keys"


def test_oidc_mode_removes_dex_and_its_namespace():
    run = run_function(BINARY, oidc_config())
    assert not [i for i in run.after if i["metadata"].get("namespace") == "auth"]
    assert not [i for i in run.after if "dex" in i["metadata"]["name"] and i["kind"] != "CustomResourceDefinition"]
    assert not [i for i in run.after if i["kind"] == "CustomResourceDefinition" and i["metadata"]["name"].endswith(".dex.coreos.com")]
    for i in run.after:
        if i["kind"] == "AuthorizationPolicy":
            paths = [p for r in i["spec"].get("rules") or [] for t in r.get("to") or []
                     for p in (t.get("operation") or {}).get("notPaths") or []]
            assert not [p for p in paths if p.startswith("/dex/")], (i["metadata"]["name"], paths)
        cfg = (i.get("data") or {}).get("oauth2_proxy.cfg") if i["kind"] == "ConfigMap" else None
        if cfg:
            lines = [line for line in cfg.splitlines() if not line.lstrip().startswith("#")]
            assert not [line for line in lines if "dex" in line], lines


def chain_output(mode_config=None):
    """kubeflow-krm run over the corpus with the recommended Chain (its EIP section replaced)."""
    with open(os.path.join(harness.ROOT, "fn-configs", "kubeflow-krm.yaml"), encoding="utf-8") as f:
        chain = yaml.safe_load(f)
    if mode_config is not None:
        section = {k: v for k, v in mode_config.items() if k not in ("apiVersion", "kind", "metadata")}
        chain["externalIdentityProvider"] = section
    path = os.path.join(harness.ROOT, "target", "corpus-chain.yaml")
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump(chain, f)
    proc = subprocess.run([os.path.join(harness.BIN, "kubeflow-krm"), "run", harness.CORPUS, "--config", path], capture_output=True)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    return [d for d in yaml.load_all(proc.stdout, Loader=harness.LOADER) if d]


def check_chain(items):
    values = secret_values(harness.corpus_items())
    text = yaml.safe_dump_all(items)
    left = [v for v in values if v in text]
    assert not left, f"{len(left)} values of Secrets of the render are still in the output"
    provided = provided_secrets(items)
    missing = sorted({r for i in items for r in pod_secret_reads(i) if r not in provided})
    assert not missing, f"pods read Secrets nothing provides: {missing[:10]}"


def test_recommended_chain_leaves_no_public_secret_dex():
    check_chain(chain_output())


def test_recommended_chain_leaves_no_public_secret_oidc():
    check_chain(chain_output(oidc_config()))


if __name__ == "__main__":
    raise SystemExit(harness.main(globals()))
