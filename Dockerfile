# syntax=docker/dockerfile:1.7
# kubernetes-image-puller: one reconcile pass per CronJob run (`node /app/main.mjs`), plus the static
# helper the DaemonSet copies into every pod (/usr/local/bin/kip-helper).
# Published as quay.io/eclipse/kubernetes-image-puller:latest, the image the chart and the OpenShift
# templates run and KIP_IMAGE defaults to (the Go puller's :next has no helper).
#
# Every RUN below is a script CI also runs outside Docker (npm ci, npm run build:bundle, src/helper/build.sh),
# so a green CI means these steps work; only the base images are Docker-specific.
# Pin the three base images by digest in release builds (e.g. --build-arg NODE_BUILD_IMAGE=…@sha256:…).
ARG NODE_BUILD_IMAGE=docker.io/library/node:24-bookworm-slim
ARG HELPER_BUILD_IMAGE=docker.io/library/debian:bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs24-debian12:nonroot

FROM ${NODE_BUILD_IMAGE} AS bundle
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build:bundle && test -s dist/main.mjs && mkdir dist/compile-cache

# V8's compile cache of the bundle, made at build time so that a pass reads compiled code instead of
# compiling 2.5 MB of JavaScript. Node keys its cache by its own version, the CPU's features and the
# UID, so it is made here, by the runtime image's own Node as the runtime's USER: a cache made by the
# build image's Node, or by root, would never be used. Exec form: this image has no shell. --dry-run
# loads the program and the Kubernetes client without a cluster; the YAML it prints goes to the log.
FROM ${RUNTIME_IMAGE} AS compile-cache
COPY --from=bundle --chown=65532:65532 /src/dist/ /app/
USER 65532:65532
ENV NODE_ENV=production \
    NODE_OPTIONS=--enable-source-maps \
    IMAGES=warm-up=registry.invalid/warm-up:1
RUN ["/nodejs/bin/node", "/app/main.mjs", "--dry-run"]

FROM ${HELPER_BUILD_IMAGE} AS helper
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc libc6-dev binutils \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY src/helper/ ./src/helper/
RUN bash src/helper/build.sh /out/kip-helper

FROM ${RUNTIME_IMAGE}
ARG VERSION=dev
LABEL org.opencontainers.image.title="kubernetes-image-puller" \
      org.opencontainers.image.description="Caches container images on every node through a DaemonSet reconciled by a CronJob" \
      org.opencontainers.image.licenses="EPL-2.0" \
      org.opencontainers.image.version="${VERSION}"
# Owned by root, group 0, world-readable: any UID the platform picks (OpenShift's arbitrary UID runs in
# group 0) can read the bundle and run the helper; nothing is writable, so readOnlyRootFilesystem works.
# dist/main.mjs is the entry; the program and the clients it loads on demand are in chunks/.
COPY --from=bundle --chown=0:0 --chmod=0444 /src/dist/main.mjs* /app/
COPY --from=bundle --chown=0:0 --chmod=0444 /src/dist/chunks/ /app/chunks/
# Read-only like the rest (0555: its directories must stay searchable). Node reads it and, for a UID
# other than 65532 (OpenShift's arbitrary one) or a node with other CPU features, finds no entry,
# cannot write one and compiles as it would without a cache: slower, never failing.
COPY --from=compile-cache --chown=0:0 --chmod=0555 /app/compile-cache/ /app/compile-cache/
COPY --from=helper --chown=0:0 --chmod=0555 /out/kip-helper /usr/local/bin/kip-helper
WORKDIR /app
ENV NODE_ENV=production \
    NODE_OPTIONS=--enable-source-maps
# Numeric, so the kubelet can check runAsNonRoot without an /etc/passwd lookup.
USER 65532:65532
# The distroless entrypoint is node itself; arguments after the script go to the program (e.g. --dry-run).
CMD ["/app/main.mjs"]
