#!/usr/bin/env bash
# Builds the static helper the DaemonSet copies into every pod: dist/kip-helper (or the path given as
# the first argument). The Dockerfile and CI both run this script, so what is tested is what ships.
#
# gcc -static against glibc rather than Go: the helper makes five system calls, so C gives a ~700 KB
# binary in a second with the compiler every build image already has; a Go build would be ~1.5 MB and
# need a Go toolchain in the image build. glibc is safe statically here because nothing uses NSS/dlopen.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-$root/dist/kip-helper}
cc=${CC:-gcc}

command -v "$cc" >/dev/null || { echo "build.sh: compiler '$cc' not found (install gcc and libc6-dev)" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT

"$cc" -std=c11 -Os -static -s -Wall -Wextra -Werror \
  -ffunction-sections -fdata-sections -Wl,--gc-sections \
  -o "$tmp" "$here/kip-helper.c"

# A dynamic binary would run here and fail in a pod whose image has no libc; refuse to ship one.
if command -v readelf >/dev/null; then
  if readelf --program-headers --wide "$tmp" | grep -q 'INTERP'; then
    echo "build.sh: $tmp has a PT_INTERP header (it is dynamically linked)" >&2
    exit 1
  fi
fi
chmod 0755 "$tmp"
mv "$tmp" "$out"
trap - EXIT
echo "build.sh: built $out ($(wc -c <"$out") bytes, static)"
