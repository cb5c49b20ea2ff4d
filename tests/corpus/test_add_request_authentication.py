"""add-request-authentication over the real Kubeflow master render."""
import os

import yaml

import harness
from harness import assert_only, run_function

BINARY = "add-request-authentication"
FN = {"apiVersion": "fn.kubeflow-krm.dev/v1alpha1", "kind": "AddRequestAuthentication", "metadata": {"name": "x"}}
GITHUB = "https://token.actions.githubusercontent.com"
DEX = "http://dex.auth.svc.cluster.local:5556/dex"


def ready_config():
    """The shipped GitHub Actions functionConfig (fn-configs/add-request-authentication.yaml)."""
    with open(os.path.join(harness.ROOT, "fn-configs", "add-request-authentication.yaml"), encoding="utf-8") as f:
        return yaml.load(f, Loader=harness.LOADER)


def run_expecting_error(function_config):
    """Runs the binary over the corpus; asserts exit 1 and the items unchanged; returns the errors."""
    code, out, err = harness._run_binary(BINARY, harness.resource_list_text(harness.corpus_docs(), function_config))
    assert code == 1, f"{BINARY} exited {code}, expected 1: {err[:2000]}"
    assert err.strip(), "an error must be reported on stderr"
    rl = yaml.load(out, Loader=harness.LOADER)
    after = rl.get("items") or []
    before = harness.corpus_items()
    assert len(after) == len(before), "on an error the items must come back unchanged"
    for a, b in zip(before, after):
        diff = harness.first_difference(a, b)
        assert diff is None, f"on an error the items must come back unchanged: {diff}"
    return [r for r in rl.get("results") or [] if r.get("severity") == "error"], err


def test_github_actions_adds_two_objects_and_changes_nothing_else():
    config = ready_config()
    run = run_function(BINARY, config)
    ra = ("security.istio.io", "RequestAuthentication", "istio-system", "github-actions")
    ap = ("security.istio.io", "AuthorizationPolicy", "istio-system", "github-actions-required-claims")
    assert sorted(run.added, key=str) == sorted([ra, ap], key=str), run.added
    assert_only(run, added=[lambda i: i in (ra, ap)])
    assert run.changed == [] and run.removed == []
    # The corpus has istio-ingressgateway-require-jwt: no warning.
    assert run.results_of("warning") == [], run.results_of("warning")
    assert len(run.results_of("info")) == 2
    rule = run.after_by_id[ra]["spec"]["jwtRules"][0]
    assert rule["issuer"] == GITHUB and rule["audiences"] == ["https://github.com/my-org"]
    assert rule["jwksUri"] == GITHUB + "/.well-known/jwks"
    policy = run.after_by_id[ap]["spec"]
    assert policy["action"] == "DENY"
    assert policy["rules"] == [{"from": [{"source": {"requestPrincipals": [GITHUB + "/*"]}}],
                                "when": [{"key": "request.auth.claims[repository_owner]", "notValues": ["my-org"]}]}]
    # dex-jwt is still the only other RequestAuthentication, untouched.
    others = [i for i in run.after_by_id if i[1] == "RequestAuthentication" and i != ra]
    assert [i[3] for i in others] == ["dex-jwt"], others


def test_dex_issuer_is_refused_naming_dex_jwt():
    config = dict(FN, issuers=[{"name": "dex-again", "issuer": DEX, "jwksUri": DEX + "/keys",
                                "audiences": ["kubeflow-oidc-authservice"]}])
    errors, stderr = run_expecting_error(config)
    assert len(errors) == 1, errors
    assert errors[0]["resourceRef"]["name"] == "dex-jwt"
    assert errors[0]["resourceRef"]["kind"] == "RequestAuthentication"
    assert errors[0]["field"]["path"] == "spec.jwtRules[0].issuer"
    assert "issuers[0].issuer" in errors[0]["message"]
    assert "dex-jwt" in stderr


if __name__ == "__main__":
    raise SystemExit(harness.main(globals()))
