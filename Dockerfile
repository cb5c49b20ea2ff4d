# The kubeflow-krm images for users with Docker (CI builds the same images without Docker, with
# .ci/build-image): static binaries on scratch, /etc/passwd with nobody (kustomize and kpt run
# functions with --user nobody), running as nonroot (65532).
#
#   docker build -t ghcr.io/kubeflow-krm/kubeflow-krm:0.1.0 .
#   docker build --target istio-injection -t ghcr.io/kubeflow-krm/istio-injection:0.1.0 .
#
# The default target, kubeflow-krm, picks the function from the functionConfig's kind; each
# function's target runs that function's binary (a ConfigMap functionConfig works there).
# Multi-platform: docker buildx build --platform linux/amd64,linux/arm64 ...

FROM rust:1.95-bookworm AS build
ARG TARGETARCH
WORKDIR /src
COPY . .
# crt-static with an explicit --target: static binaries, while build scripts and proc-macros stay
# dynamic (they cannot be static).
RUN case "${TARGETARCH:-amd64}" in \
      amd64) target=x86_64-unknown-linux-gnu ;; \
      arm64) target=aarch64-unknown-linux-gnu ;; \
      *) echo "unsupported architecture ${TARGETARCH}" >&2; exit 1 ;; \
    esac \
 && RUSTFLAGS='-C target-feature=+crt-static' cargo build --release --locked --target "$target" --bins \
 && mkdir -p /out/usr/local/bin /out/etc \
 && find "target/$target/release" -maxdepth 1 -type f -perm -u+x -exec cp {} /out/usr/local/bin/ \; \
 && cp image/passwd image/group /out/etc/

FROM scratch AS base
COPY --from=build /out/ /
USER 65532:65532

FROM base AS add-request-authentication
ENTRYPOINT ["/usr/local/bin/add-request-authentication"]

FROM base AS centralize-credentials
ENTRYPOINT ["/usr/local/bin/centralize-credentials"]

FROM base AS external-database
ENTRYPOINT ["/usr/local/bin/external-database"]

FROM base AS external-identity-provider
ENTRYPOINT ["/usr/local/bin/external-identity-provider"]

FROM base AS external-object-store
ENTRYPOINT ["/usr/local/bin/external-object-store"]

FROM base AS istio-injection
ENTRYPOINT ["/usr/local/bin/istio-injection"]

# The default (last) target.
FROM base AS kubeflow-krm
ENTRYPOINT ["/usr/local/bin/kubeflow-krm"]
