#!/usr/bin/env bash
# Prints N (default 1) TCP ports that are free on this machine, one per line. They are held open
# together while being picked, so they differ from each other; another process can still take one
# before the caller binds it, so callers retry when a bind fails. Ports come from the kernel's
# ephemeral range, which kwokctl never picks its cluster ports from (it counts down from 32767).
#   usage: bash e2e/cluster/free-ports.sh [count]
set -euo pipefail
count=${1:-1}
command -v node >/dev/null 2>&1 || { echo "free-ports.sh: node is needed to find free ports" >&2; exit 1; }
node -e '
const net = require("node:net");
const servers = [];
const take = () => new Promise((resolve, reject) => {
  const s = net.createServer().once("error", reject).listen(0, "0.0.0.0", () => { servers.push(s); resolve(s.address().port); });
});
(async () => {
  const ports = [];
  for (let i = 0; i < Number(process.argv[1]); i++) ports.push(await take());
  for (const s of servers) s.close();
  console.log(ports.join("\n"));
})();
' "$count"
