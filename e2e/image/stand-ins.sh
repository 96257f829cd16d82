#!/usr/bin/env bash
# Local stand-ins for the Dockerfile's three base images, for machines that reach no container
# registry: made from Debian's packages and the npm registry's Node, and kept as a registry's storage
# directory so that any registry binary serving it offers them. Sourced by e2e/image/build.sh.
#   debian:bookworm-slim                    mmdebstrap --variant=minbase of bookworm (HELPER_BUILD_IMAGE)
#   node:24-bookworm-slim                   that, plus /usr/local/bin/node and npm (NODE_BUILD_IMAGE)
#   distroless/nodejs24-debian12:nonroot    libc, libstdc++, CA certificates, tzdata, the nonroot user
#                                           (65532) and /nodejs/bin/node; no shell (RUNTIME_IMAGE)
# Every tarball is written with fixed owners, order and times, so the same inputs give the same
# digests and buildah's layer cache stays valid when the stand-ins are made again.

# The directory of the stand-ins for these inputs: this file, the Node binary and the npm spec.
stand_ins_dir() {
  local node_bin=$1 key
  key=$( { cat "${BASH_SOURCE[0]}"; "$node_bin" --version; echo "$STAND_IN_NPM $STAND_IN_SUITE"; } | sha256sum | cut -c1-16)
  echo "$KIP_IMAGE_CACHE/stand-ins-$key"
}

STAND_IN_SUITE=bookworm
STAND_IN_NPM=npm@11
STAND_IN_EPOCH=1700000000

# A reproducible tarball of directory $1's contents (owners as on disk: this runs as root).
stand_in_tar() {
  tar --sort=name --numeric-owner --mtime=@$STAND_IN_EPOCH --format=posix \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime -C "$1" -cf "$2" .
}

# Builds the three stand-ins and pushes them to the registry at $1 (host:port); $2 is the Node binary.
make_stand_ins() {
  local registry=$1 node_bin=$2 work arch
  work=$(mktemp -d)
  case $(uname -m) in x86_64) arch=amd64 ;; aarch64 | arm64) arch=arm64 ;; *) echo "stand-ins: no platform for $(uname -m)" >&2; return 1 ;; esac
  local path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

  image_step "stand-in debian:bookworm-slim (mmdebstrap, minbase)"
  # The merged-usr hook keeps usrmerge and perl out (78 MB instead of 126 MB).
  SOURCE_DATE_EPOCH=$STAND_IN_EPOCH mmdebstrap --quiet --variant=minbase --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    "$STAND_IN_SUITE" "$work/debian.tar" >"$work/mmdebstrap.log" 2>&1 || { tail -20 "$work/mmdebstrap.log" >&2; return 1; }
  mkdir "$work/debian" && tar -xf "$work/debian.tar" -C "$work/debian" && rm -f "$work/debian.tar"
  stand_in_tar "$work/debian" "$work/debian.tar"
  rm -rf "$work/debian"
  crane_ append --oci-empty-base -f "$work/debian.tar" -t "$registry/debian:bookworm-slim"
  crane_ mutate --set-platform "linux/$arch" -e "PATH=$path" --cmd bash -t "$registry/debian:bookworm-slim" "$registry/debian:bookworm-slim"

  image_step "stand-in node:24-bookworm-slim (Node $("$node_bin" --version) and $STAND_IN_NPM)"
  mkdir -p "$work/node/usr/local/bin" "$work/node/usr/local/lib/node_modules" "$work/npm"
  install -m 0755 "$node_bin" "$work/node/usr/local/bin/node"
  (cd "$work/npm" && npm pack --silent "$STAND_IN_NPM" >/dev/null) || return 1
  tar -xzf "$work"/npm/npm-*.tgz -C "$work/npm"
  mv "$work/npm/package" "$work/node/usr/local/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$work/node/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$work/node/usr/local/bin/npx"
  stand_in_tar "$work/node" "$work/node.tar"
  crane_ append -b "$registry/debian:bookworm-slim" -f "$work/node.tar" -t "$registry/node:24-bookworm-slim"

  image_step "stand-in distroless/nodejs24-debian12:nonroot (Debian packages unpacked, no shell)"
  local base=$work/distroless/base pkg deb
  mkdir -p "$base" "$work/debs" "$work/distroless/node/nodejs/bin"
  (cd "$work/debs" && apt-get download -q base-files netbase tzdata libc6 libgcc-s1 gcc-12-base libstdc++6 ca-certificates >"$work/apt.log" 2>&1) ||
    { tail -5 "$work/apt.log" >&2; return 1; }
  mkdir -p "$base/var/lib/dpkg/status.d"
  for deb in "$work"/debs/*.deb; do
    pkg=$(dpkg-deb -f "$deb" Package)
    # No maintainer scripts run, as in distroless: the files, and the control data where scanners look.
    dpkg-deb -x "$deb" "$base"
    dpkg-deb -f "$deb" >"$base/var/lib/dpkg/status.d/$pkg"
  done
  rm -rf "$base/usr/share/doc" "$base/usr/share/man" "$base/usr/share/info" "$base/usr/share/lintian"
  mkdir -p "$base/etc/ssl/certs" "$base/tmp" "$base/home/nonroot"
  find "$base/usr/share/ca-certificates" -name '*.crt' | LC_ALL=C sort | xargs cat >"$base/etc/ssl/certs/ca-certificates.crt"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$base/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\ntty:x:5:\nstaff:x:50:\nnonroot:x:65532:\n' >"$base/etc/group"
  printf 'hosts: files dns\nnetworks: files\npasswd: files\ngroup: files\n' >"$base/etc/nsswitch.conf"
  chmod 1777 "$base/tmp"
  chown 65532:65532 "$base/home/nonroot"
  stand_in_tar "$base" "$work/distroless-base.tar"
  install -m 0755 "$node_bin" "$work/distroless/node/nodejs/bin/node"
  stand_in_tar "$work/distroless/node" "$work/distroless-node.tar"
  crane_ append --oci-empty-base -f "$work/distroless-base.tar" -f "$work/distroless-node.tar" -t "$registry/distroless/nodejs24-debian12:nonroot"
  crane_ mutate --set-platform "linux/$arch" --entrypoint /nodejs/bin/node -u 65532 -w /home/nonroot \
    -e "PATH=$path" -e SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    -t "$registry/distroless/nodejs24-debian12:nonroot" "$registry/distroless/nodejs24-debian12:nonroot"
  rm -rf "$work"
}
