#!/usr/bin/env bash
# End-to-end tests through the real tools, each output compared with a checked-in expected file:
#   1. kustomize (kubectl kustomize --enable-alpha-plugins) over examples/kubeflow-gitops: the
#      recommended set-up, one Chain functionConfig, one container;
#   2. the same with the five per-function files as five transformers (five containers);
#   3. a bad functionConfig through kustomize: the build fails with the function's error line;
#   4. kpt fn render of examples/kpt-package (the Chain in the kubeflow-krm image);
#   5. kpt fn eval, one function at a time in the recommended order, each in its own image:
#      same result as 4;
#   6. kubeflow-krm run over the same base with --config fn-configs;
#   7. the images themselves: --version, non-root, a function's own image with a ConfigMap
#      functionConfig (kpt's `-- key=value`).
#
# Containers: with podman on the machine, the real images built by .ci/build-image run, under
# kustomize through tests/e2e/podman/docker (a `docker` that execs podman) and under kpt with
# KPT_FN_RUNTIME=podman; KFKRM_REAL_IMAGES=1 (CI) makes that path mandatory. Without podman,
# tests/e2e/bin/docker stands in for the engine (it runs the built binary named by the image)
# and kpt runs the binaries in exec mode (KFKRM_CONTAINERS=stand-in chooses this path with
# podman installed).
#
# UPDATE_GOLDEN=1 rewrites the expected files. Needs the release binaries (KFKRM_BIN, default
# target/release).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${KFKRM_BIN:-$ROOT/target/release}
export KFKRM_BIN=$BIN
EXPECTED=$ROOT/tests/e2e/expected
REGISTRY=ghcr.io/kubeflow-krm
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' "$ROOT/Cargo.toml" | head -1)
IMAGE=$REGISTRY/kubeflow-krm:$VERSION
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
passed=0
failed=0

ok() { passed=$((passed + 1)); echo "ok      $1"; }
bad() { failed=$((failed + 1)); echo "FAILED  $1"; }

# The functions in the recommended order (each has fn-configs/<name>.yaml and an image).
FUNCTIONS=(centralize-credentials external-database external-object-store external-identity-provider istio-injection add-request-authentication)

if command -v podman > /dev/null && [ "${KFKRM_CONTAINERS:-}" != stand-in ]; then
  REAL=1
  export CONTAINERS_CONF=${CONTAINERS_CONF:-$ROOT/.ci/containers.conf}
  export KPT_FN_RUNTIME=podman
  DOCKER_DIR=$ROOT/tests/e2e/podman
  for name in kubeflow-krm "${FUNCTIONS[@]}"; do
    if ! podman image exists "$REGISTRY/$name:$VERSION"; then
      echo "missing image $REGISTRY/$name:$VERSION: build the images with .ci/build-image"
      exit 1
    fi
  done
  echo "containers: podman, the images built by .ci/build-image"
elif [ -n "${KFKRM_REAL_IMAGES:-}" ]; then
  echo "KFKRM_REAL_IMAGES is set but podman is not installed"
  exit 1
else
  REAL=0
  DOCKER_DIR=$ROOT/tests/e2e/bin
  echo "containers: none (no podman): tests/e2e/bin/docker runs the built binaries"
fi

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

# kustomize_build NAME DIR EXPECTED CONTAINERS: a container-mode build, compared, and the number
# of containers kustomize started.
kustomize_build() {
  export KFKRM_DOCKER_LOG=$TMP/docker-$RANDOM.log
  : > "$KFKRM_DOCKER_LOG"
  if PATH="$DOCKER_DIR:$PATH" kubectl kustomize --enable-alpha-plugins "$2" > "$TMP/kustomize.yaml" 2> "$TMP/kustomize.err"; then
    compare "$1" "$TMP/kustomize.yaml" "$3"
    runs=$(wc -l < "$KFKRM_DOCKER_LOG")
    if [ "$runs" -eq "$4" ]; then ok "$1: $runs container(s)"; else bad "$1: $runs containers, expected $4"; fi
  else
    cat "$TMP/kustomize.err"
    bad "$1"
  fi
}

# 1. kustomize, container mode, the recommended Chain.
kustomize_build "kustomize container mode: examples/kubeflow-gitops (Chain)" "$ROOT/examples/kubeflow-gitops" \
  "$ROOT/examples/kubeflow-gitops/expected.yaml" 1

# 2. kustomize, the per-function files as five transformers, in a copy laid out as users do.
mkdir -p "$TMP/per-function"
cp -r "$ROOT/examples/kubeflow-gitops/base" "$ROOT/fn-configs" "$TMP/per-function/"
{
  echo "resources:"
  echo "- base"
  echo "transformers:"
  for f in "${FUNCTIONS[@]}"; do echo "- fn-configs/$f.yaml"; done
} > "$TMP/per-function/kustomization.yaml"
kustomize_build "kustomize container mode: the per-function files" "$TMP/per-function" \
  "$ROOT/examples/kubeflow-gitops/expected.yaml" "${#FUNCTIONS[@]}"

# 3. A bad functionConfig fails the kustomize build with the function's message.
if PATH="$DOCKER_DIR:$PATH" kubectl kustomize --enable-alpha-plugins "$ROOT/tests/e2e/bad-config" \
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

# 4. kpt fn render in a copy of the package holding the base resources (without podman, the
# image is replaced by the binary in exec mode).
cp -r "$ROOT/examples/kpt-package" "$TMP/render"
cp "$ROOT/examples/kubeflow-gitops/base/kubeflow.yaml" "$TMP/render/"
if [ "$REAL" = 1 ]; then
  render=(kpt fn render render --image-pull-policy never)
else
  sed -i "s#image: $REGISTRY/\([a-z-]*\):.*#exec: $BIN/\1#" "$TMP/render/Kptfile"
  render=(kpt fn render render --allow-exec)
fi
if (cd "$TMP" && "${render[@]}" > "$TMP/render.log" 2>&1); then
  package_text "$TMP/render" > "$TMP/render.txt"
  compare "kpt fn render: examples/kpt-package (Chain)" "$TMP/render.txt" "$EXPECTED/kpt-render.yaml"
else
  cat "$TMP/render.log"
  bad "kpt fn render: examples/kpt-package (Chain)"
fi

# 5. kpt fn eval, each function's own image (or binary), in order: same as the render.
mkdir -p "$TMP/eval"
cp "$ROOT/examples/kubeflow-gitops/base/kubeflow.yaml" "$TMP/eval/"
eval_ok=1
for f in "${FUNCTIONS[@]}"; do
  if [ "$REAL" = 1 ]; then
    run=(-i "$REGISTRY/$f:$VERSION" --image-pull-policy never)
  else
    run=(--exec "$BIN/$f")
  fi
  if ! kpt fn eval "$TMP/eval" "${run[@]}" --fn-config "$ROOT/fn-configs/$f.yaml" > "$TMP/eval-$f.log" 2>&1; then
    cat "$TMP/eval-$f.log"
    eval_ok=0
  fi
done
if [ "$eval_ok" = 1 ]; then
  # kpt shows the results itself: the functions print no second copy on stderr, and put warnings
  # before infos (kpt truncates long result lists).
  if grep -q 'Stderr:' "$TMP"/eval-*.log || ! grep -A1 'Results:' "$TMP/eval-istio-injection.log" | grep -q '\[warning\]'; then
    cat "$TMP/eval-istio-injection.log"
    bad "kpt fn eval: results once, warnings first"
  else
    ok "kpt fn eval: results once, warnings first"
  fi
  package_text "$TMP/eval" > "$TMP/eval.txt"
  compare "kpt fn eval (one function at a time)" "$TMP/eval.txt" "$EXPECTED/kpt-render.yaml"
else
  bad "kpt fn eval (one function at a time)"
fi

# 6. kubeflow-krm run, one process.
if "$BIN/kubeflow-krm" run "$ROOT/examples/kubeflow-gitops/base" --config "$ROOT/fn-configs" > "$TMP/run.yaml" 2> "$TMP/run.err"; then
  compare "kubeflow-krm run --config fn-configs" "$TMP/run.yaml" "$EXPECTED/run.yaml"
else
  cat "$TMP/run.err"
  bad "kubeflow-krm run --config fn-configs"
fi

# 7. The images themselves.
if [ "$REAL" = 1 ]; then
  if [ "$(podman run --rm --user nobody "$IMAGE" --version 2>&1)" = "kubeflow-krm $VERSION" ]; then
    ok "image: kubeflow-krm --version as nobody"
  else
    bad "image: kubeflow-krm --version as nobody"
  fi
  user=$(podman image inspect --format '{{.Config.User}}' "$IMAGE")
  if [ "$user" = "65532:65532" ]; then ok "image: runs as non-root ($user)"; else bad "image: runs as $user"; fi
  if podman run --rm "$IMAGE" --version > /dev/null 2>&1 && ! podman run --rm --entrypoint /usr/local/bin/kubeflow-krm "$IMAGE" schema --write / > /dev/null 2>&1; then
    ok "image: the root file system is not writable by its user"
  else
    bad "image: the root file system is writable by its user"
  fi
  # A function's own image takes a ConfigMap functionConfig (the dispatching image cannot).
  mkdir -p "$TMP/cm"
  cp "$ROOT/examples/kubeflow-gitops/base/kubeflow.yaml" "$TMP/cm/"
  if kpt fn eval "$TMP/cm" -i "$REGISTRY/istio-injection:$VERSION" --image-pull-policy never -- mode=ambient > "$TMP/cm.log" 2>&1 \
      && grep -q 'istio.io/dataplane-mode: ambient' "$TMP/cm/kubeflow.yaml"; then
    ok "image: istio-injection with a ConfigMap functionConfig (kpt -- mode=ambient)"
  else
    cat "$TMP/cm.log"
    bad "image: istio-injection with a ConfigMap functionConfig"
  fi
  if kpt fn eval "$TMP/cm" -i "$REGISTRY/istio-injection:$VERSION" --image-pull-policy never -- mode=ambiant > "$TMP/cm.log" 2>&1; then
    bad "image: a bad ConfigMap value should fail kpt fn eval"
  elif grep -q 'ambiant' "$TMP/cm.log"; then
    ok "image: a bad ConfigMap value fails kpt fn eval with the function's error"
  else
    cat "$TMP/cm.log"
    bad "image: a bad ConfigMap value: error line missing"
  fi
fi

# The stand-in finds the binaries in target/release by itself, as its comment says.
if [ "$REAL" = 0 ] && [ "$BIN" = "$ROOT/target/release" ]; then
  if printf 'apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\nfunctionConfig: {apiVersion: fn.kubeflow-krm.dev/v1alpha1, kind: IstioInjection, metadata: {name: x}}\n' \
      | env -u KFKRM_BIN "$ROOT/tests/e2e/bin/docker" run --rm -i "$REGISTRY/istio-injection:$VERSION" > "$TMP/standin.yaml" 2>&1 \
      && grep -q 'kind: ResourceList' "$TMP/standin.yaml"; then
    ok "tests/e2e/bin/docker without KFKRM_BIN runs target/release"
  else
    cat "$TMP/standin.yaml"
    bad "tests/e2e/bin/docker without KFKRM_BIN"
  fi
fi

# 8. The examples that cannot run here (Argo CD, Flux) are at least valid YAML.
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
