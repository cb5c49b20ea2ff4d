# The kubeflow-krm image: every function binary, `kubeflow-krm` (which picks the function from
# the functionConfig's kind) as the entrypoint. Static musl binaries on a scratch base, non-root.
#
# Not built in this project's CI: the development machines have no Docker engine. The build
# steps are the ones CI runs (cargo build --release), with the musl target added.
#   docker build -t ghcr.io/kubeflow-krm/kubeflow-krm:0.1.0 .
FROM rust:1.95-alpine AS build
RUN apk add --no-cache musl-dev
WORKDIR /src
COPY . .
RUN cargo build --release --locked \
 && mkdir /out \
 && find target/release -maxdepth 1 -type f -perm -u+x -exec cp {} /out/ \;

FROM scratch
COPY --from=build /out/ /usr/local/bin/
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/kubeflow-krm"]
