#!/usr/bin/env bash
# Builds the real node's test images from plain files and pushes them to the local registry with
# crane (no Docker). Layers are written reproducibly, so every run pushes the same digests.
#   usage: bash e2e/cluster/test-images.sh <registry host:port>     (registry.sh start calls it)
#   kip/helper:1     /usr/local/bin/kip-helper from dist/kip-helper, user 65532: the part of the
#                    program's image (KIP_IMAGE) the DaemonSet runs
#   kip/pause:1      the same, with entrypoint `kip-helper sleep`: the node's sandbox (pause) image
#   kip/one-file:1   a single text file: no shell, no libc, no directory
#   kip/distroless:1 two layers shaped like a distroless image: /etc/passwd with a nonroot user,
#                    os-release, /tmp, an /app with data files, user 65532, an entrypoint that does
#                    not exist; still no shell or libc
#   kip/unused:1     a single text file of its own, for an image no pod uses
# kip/one-file:missing is left out on purpose: the broken image.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/versions.sh"
ROOT=$(cd "$HERE/../.." && pwd)
REGISTRY=${1:?usage: bash e2e/cluster/test-images.sh <registry host:port>}
HELPER=$ROOT/dist/kip-helper
CRANE=$REGISTRY_BIN_DIR/crane

[ -x "$CRANE" ] || { echo "test-images.sh: $CRANE is missing; run: bash e2e/cluster/build-binaries.sh crane" >&2; exit 1; }
[ -x "$HELPER" ] || { echo "test-images.sh: $HELPER is missing; run: npm run build" >&2; exit 1; }
case $(uname -m) in
  x86_64) arch=amd64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "test-images.sh: no image platform for machine $(uname -m)" >&2; exit 1 ;;
esac
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# A layer from a directory: fixed order, owner, mode and time, so the digest depends on content only.
layer() {
  local dir=$1 out=$2
  (cd "$dir" && find . -mindepth 1 | LC_ALL=C sort | sed 's#^\./##' >"$WORK/list")
  tar --no-recursion --owner=0 --group=0 --numeric-owner --mtime=@0 --format=ustar \
    -C "$dir" -cf "$out" -T "$WORK/list"
}

# crane prints the pushed reference with its digest; only errors are worth showing.
push() {
  local ref=$1; shift
  "$CRANE" append --insecure --oci-empty-base -t "$REGISTRY/$ref" "$@" >/dev/null 2>"$WORK/crane.err" || {
    cat "$WORK/crane.err" >&2; echo "test-images.sh: pushing $REGISTRY/$ref failed" >&2; exit 1; }
}

# containerd pulls only images whose config names a platform it runs.
mutate() {
  local ref=$1; shift
  "$CRANE" mutate --insecure --set-platform "linux/$arch" -t "$REGISTRY/$ref" "$@" "$REGISTRY/$ref" >/dev/null 2>"$WORK/crane.err" || {
    cat "$WORK/crane.err" >&2; echo "test-images.sh: configuring $REGISTRY/$ref failed" >&2; exit 1; }
}

mkdir -p "$WORK/helper/usr/local/bin"
cp "$HELPER" "$WORK/helper/usr/local/bin/kip-helper"
chmod 0555 "$WORK/helper/usr/local/bin/kip-helper"
chmod 0755 "$WORK/helper/usr" "$WORK/helper/usr/local" "$WORK/helper/usr/local/bin"
layer "$WORK/helper" "$WORK/helper.tar"
push kip/helper:1 -f "$WORK/helper.tar"
mutate kip/helper:1 --user 65532:65532
push kip/pause:1 -f "$WORK/helper.tar"
mutate kip/pause:1 --user 65532:65532 --entrypoint /usr/local/bin/kip-helper,sleep

mkdir -p "$WORK/one-file"
echo 'This image holds this file and nothing else: no shell, no libc, no directory.' >"$WORK/one-file/hello.txt"
chmod 0644 "$WORK/one-file/hello.txt"
layer "$WORK/one-file" "$WORK/one-file.tar"
push kip/one-file:1 -f "$WORK/one-file.tar"
mutate kip/one-file:1

mkdir -p "$WORK/base/etc" "$WORK/base/tmp" "$WORK/app/app"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$WORK/base/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' >"$WORK/base/etc/group"
printf 'PRETTY_NAME="kip-e2e distroless-style"\nID=kip-e2e\n' >"$WORK/base/etc/os-release"
printf '{"listen": ":8080"}\n' >"$WORK/app/app/config.json"
printf 'The server this image names as its entrypoint is not in it; only its data is.\n' >"$WORK/app/app/README"
chmod 0644 "$WORK/base/etc/"* "$WORK/app/app/"*
chmod 0755 "$WORK/base/etc" "$WORK/app/app"
chmod 1777 "$WORK/base/tmp"
layer "$WORK/base" "$WORK/base.tar"
layer "$WORK/app" "$WORK/app.tar"
push kip/distroless:1 -f "$WORK/base.tar" -f "$WORK/app.tar"
mutate kip/distroless:1 --user 65532:65532 --workdir /app --entrypoint /app/server

mkdir -p "$WORK/unused"
echo 'No pod uses this image; the kubelet may remove it.' >"$WORK/unused/unused.txt"
chmod 0644 "$WORK/unused/unused.txt"
layer "$WORK/unused" "$WORK/unused.tar"
push kip/unused:1 -f "$WORK/unused.tar"
mutate kip/unused:1

printf '[registry %s] pushed kip/helper:1, kip/pause:1, kip/one-file:1, kip/distroless:1 and kip/unused:1 to %s\n' "$(date +%H:%M:%S)" "$REGISTRY"
