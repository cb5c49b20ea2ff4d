#!/usr/bin/env bash
# End-to-end tests through the real tools, each output compared with a checked-in expected file:
#   1. kustomize (kubectl kustomize --enable-alpha-plugins) over examples/kubeflow-gitops, the
#      functions in container mode, run by tests/e2e/bin/docker (a stand-in for the Docker engine);
#   2. a bad functionConfig through kustomize: the build fails with the function's error line;
#   3. kpt fn render --allow-exec of examples/kpt-package (exec mode, binaries on PATH);
#   4. kpt fn eval --exec, one function at a time in the recommended order: same result as 3;
#   5. kubeflow-krm run over the same base with --config fn-configs.
# UPDATE_GOLDEN=1 rewrites the expected files. Needs the release binaries (KFKRM_BIN).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${KFKRM_BIN:-$ROOT/target/release}
export KFKRM_BIN=$BIN
EXPECTED=$ROOT/tests/e2e/expected
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
passed=0
failed=0

ok() { passed=$((passed + 1)); echo "ok      $1"; }
bad() { failed=$((failed + 1)); echo "FAILED  $1"; }

# compare NAME ACTUAL EXPECTED
compare() {
  if [ -n "${UPDATE_GOLDEN:-}" ]; then
    mkdir -p "$(dirname "$3")"
    cp "$2" "$3"
    ok "$1 (expected output rewritten)"
  elif diff -u "$3" "$2" > "$TMP/diff"; then
    ok "$1"
  else
    head -40 "$TMP/diff"
    bad "$1"
  fi
}

# The functionConfig files in the recommended order, as fn-configs/kustomization.yaml lists them.
configs() {
  python3 -c 'import sys, yaml; print("\n".join(yaml.safe_load(open(sys.argv[1]))["resources"]))' \
    "$ROOT/fn-configs/kustomization.yaml"
}

# 1. kustomize, container mode.
export KFKRM_DOCKER_LOG=$TMP/docker.log
if PATH="$ROOT/tests/e2e/bin:$PATH" kubectl kustomize --enable-alpha-plugins "$ROOT/examples/kubeflow-gitops" \
    > "$TMP/kustomize.yaml" 2> "$TMP/kustomize.err"; then
  compare "kustomize container mode: examples/kubeflow-gitops" "$TMP/kustomize.yaml" \
    "$ROOT/examples/kubeflow-gitops/expected.yaml"
  runs=$(wc -l < "$KFKRM_DOCKER_LOG")
  if [ "$runs" -eq "$(configs | wc -l)" ]; then ok "kustomize ran one container per function ($runs)"; else bad "kustomize ran $runs containers"; fi
else
  cat "$TMP/kustomize.err"
  bad "kustomize container mode: examples/kubeflow-gitops"
fi

# 2. A bad functionConfig fails the kustomize build with the function's message.
if PATH="$ROOT/tests/e2e/bin:$PATH" kubectl kustomize --enable-alpha-plugins "$ROOT/tests/e2e/bad-config" \
    > /dev/null 2> "$TMP/bad.err"; then
  bad "kustomize with a bad functionConfig should fail"
elif grep -q "unknown field \`namespace\`" "$TMP/bad.err"; then
  ok "kustomize with a bad functionConfig fails and shows the error"
else
  cat "$TMP/bad.err"
  bad "kustomize with a bad functionConfig: error line missing"
fi

# The files of a rendered package, in path order, each under a `# file:` line.
package_text() {
  (cd "$1" && find . -type f ! -path './fn-configs/*' ! -name Kptfile | LC_ALL=C sort | while read -r f; do
    echo "# file: ${f#./}"
    cat "$f"
  done)
}

# 3. kpt fn render, exec mode, in a copy of the package holding the base resources.
cp -rL "$ROOT/examples/kpt-package" "$TMP/render"
cp "$ROOT/examples/kubeflow-gitops/base/kubeflow.yaml" "$TMP/render/"
if (cd "$TMP" && PATH="$BIN:$PATH" kpt fn render render --allow-exec > "$TMP/render.log" 2>&1); then
  package_text "$TMP/render" > "$TMP/render.txt"
  compare "kpt fn render --allow-exec: examples/kpt-package" "$TMP/render.txt" "$EXPECTED/kpt-render.yaml"
else
  cat "$TMP/render.log"
  bad "kpt fn render --allow-exec: examples/kpt-package"
fi

# 4. kpt fn eval --exec, each function's own binary, in order: same as the pipeline's render.
mkdir -p "$TMP/eval"
cp "$ROOT/examples/kubeflow-gitops/base/kubeflow.yaml" "$TMP/eval/"
eval_ok=1
while read -r config; do
  kind=$(python3 -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["kind"])' "$ROOT/fn-configs/$config")
  binary=$(echo "$kind" | sed -E 's/([a-z0-9])([A-Z])/\1-\2/g' | tr 'A-Z' 'a-z')
  if ! kpt fn eval "$TMP/eval" --exec "$BIN/$binary" --fn-config "$ROOT/fn-configs/$config" > "$TMP/eval.log" 2>&1; then
    cat "$TMP/eval.log"
    eval_ok=0
  fi
done < <(configs)
if [ "$eval_ok" = 1 ]; then
  package_text "$TMP/eval" > "$TMP/eval.txt"
  compare "kpt fn eval --exec (one binary per function)" "$TMP/eval.txt" "$EXPECTED/kpt-render.yaml"
else
  bad "kpt fn eval --exec (one binary per function)"
fi

# 5. kubeflow-krm run, one process.
if "$BIN/kubeflow-krm" run "$ROOT/examples/kubeflow-gitops/base" --config "$ROOT/fn-configs" > "$TMP/run.yaml" 2> "$TMP/run.err"; then
  compare "kubeflow-krm run --config fn-configs" "$TMP/run.yaml" "$EXPECTED/run.yaml"
else
  cat "$TMP/run.err"
  bad "kubeflow-krm run --config fn-configs"
fi

# 6. The examples that cannot run here (Argo CD, Flux) are at least valid YAML.
if python3 - "$ROOT/examples" <<'PY'
import pathlib, sys, yaml
bad = []
for path in sorted(pathlib.Path(sys.argv[1]).rglob("*.yaml")):
    try:
        docs = list(yaml.safe_load_all(path.read_text()))
        for doc in docs:
            for value in ((doc or {}).get("data") or {}).values() if isinstance(doc, dict) else []:
                if isinstance(value, str) and value.lstrip().startswith("apiVersion:"):
                    yaml.safe_load(value)
    except Exception as e:  # noqa: BLE001
        bad.append(f"{path}: {e}")
if bad:
    print("\n".join(bad))
sys.exit(1 if bad else 0)
PY
then ok "every example file is valid YAML (embedded documents too)"; else bad "examples: invalid YAML"; fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
