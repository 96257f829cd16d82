#!/usr/bin/env bash
# A local OCI registry (distribution) for the real node's images, and the test images in it.
#   usage: bash e2e/cluster/registry.sh start|stop       KIP_CLUSTER=name picks the cluster (default kip-e2e)
# start: serves 127.0.0.1:<free port> with its storage in e2e/.e2e/<cluster>/registry/data, writes the
#   address to e2e/.e2e/<cluster>.registry and pushes the test images (cluster/test-images.sh). Each
#   request is one line of e2e/.e2e/<cluster>/registry/access.log (combined log format, with the
#   client's User-Agent); the registry's own log is registry.log beside it. A registry already running
#   for the cluster is kept.
# stop: stops it and removes its directory and address file.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/versions.sh"
CLUSTER=${KIP_CLUSTER:-kip-e2e}
STATE_DIR=$(cd "$HERE/.." && pwd)/.e2e
DIR=$STATE_DIR/$CLUSTER/registry
ADDRESS_FILE=$STATE_DIR/$CLUSTER.registry
PID_FILE=$DIR/registry.pid

log() { printf '[registry %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

running_pid() {
  local pid
  pid=$(cat "$PID_FILE" 2>/dev/null) || return 1
  # The pid file may be older than a reboot: the pid must still be this registry.
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -F -- "$DIR/config.yml" >/dev/null || return 1
  echo "$pid"
}

answers() { curl -fsS -o /dev/null --max-time 2 "http://$1/v2/" 2>/dev/null; }

start() {
  for b in registry crane; do
    if [ ! -x "$REGISTRY_BIN_DIR/$b" ]; then
      echo "registry.sh: $REGISTRY_BIN_DIR/$b is missing; run: bash e2e/cluster/build-binaries.sh registry crane" >&2; exit 1
    fi
  done
  command -v curl >/dev/null || { echo "registry.sh: curl is needed (apt-get install curl)" >&2; exit 1; }
  if running_pid >/dev/null && [ -f "$ADDRESS_FILE" ] && answers "$(cat "$ADDRESS_FILE")"; then
    log "already running at $(cat "$ADDRESS_FILE")"
  else
    stop_registry
    mkdir -p "$DIR/data"
    local try port pid deadline
    # Another process can take the port between picking and binding it; a fresh one is tried then.
    for try in 1 2 3; do
      port=$(bash "$HERE/free-ports.sh" 1)
      cat >"$DIR/config.yml" <<EOF
version: 0.1
log: {level: info, accesslog: {disabled: false}}
storage: {filesystem: {rootdirectory: $DIR/data}, delete: {enabled: true}}
http: {addr: 127.0.0.1:$port}
EOF
      setsid "$REGISTRY_BIN_DIR/registry" serve "$DIR/config.yml" </dev/null >>"$DIR/access.log" 2>>"$DIR/registry.log" &
      pid=$!
      echo "$pid" >"$PID_FILE"
      deadline=$((SECONDS + 15))
      until answers "127.0.0.1:$port"; do
        if ! kill -0 "$pid" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then break; fi
        sleep 0.2
      done
      if answers "127.0.0.1:$port"; then break; fi
      kill "$pid" 2>/dev/null || true
      rm -f "$PID_FILE"
      if [ "$try" -eq 3 ] || ! grep -q 'address already in use' "$DIR/registry.log"; then
        echo "registry.sh: the registry did not answer on 127.0.0.1:$port; last lines of $DIR/registry.log:" >&2
        tail -5 "$DIR/registry.log" >&2
        exit 1
      fi
      log "port $port was taken meanwhile; trying another"
    done
    echo "127.0.0.1:$port" >"$ADDRESS_FILE"
    log "serving 127.0.0.1:$port (pid $pid, storage $DIR/data)"
  fi
  bash "$HERE/test-images.sh" "$(cat "$ADDRESS_FILE")"
}

stop_registry() {
  local pid
  if pid=$(running_pid); then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    log "stopped the registry (pid $pid)"
  fi
  rm -rf "$DIR" "$ADDRESS_FILE"
  rmdir "$STATE_DIR/$CLUSTER" 2>/dev/null || true
}

case ${1:-} in
  start) start ;;
  stop) stop_registry ;;
  *) echo "usage: bash e2e/cluster/registry.sh start|stop" >&2; exit 2 ;;
esac
