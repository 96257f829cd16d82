#!/usr/bin/env bash
# The image's size per layer (npm run bench:image): builds the Dockerfile (npm run image, cached),
# writes it as an OCI layout and prints, per layer, its compressed and unpacked size and what it
# holds; then the whole image, next to the Go puller's published image for comparison.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
source .ci/prepare
kip_prepare
LAYOUT=$(mktemp -d)
trap 'rm -rf "$LAYOUT"' EXIT
bash e2e/image/build.sh --oci "$LAYOUT/image" >&2
node e2e/bench/image-layers.ts "$LAYOUT/image"
