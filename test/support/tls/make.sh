#!/usr/bin/env bash
# Makes the test CA and the certificate its registries serve (localhost, 127.0.0.1, and names under .test, which no
# resolver answers: test/support/test-network.ts maps them to 127.0.0.1). Run once; the files are
# committed, valid for a century, and trusted by nothing but the tests that load ca.pem.
set -euo pipefail
cd "$(dirname "$0")"
openssl req -x509 -newkey rsa:2048 -nodes -days 36500 -subj '/CN=kubernetes-image-puller test CA' \
  -keyout ca-key.pem -out ca.pem -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign'
openssl req -newkey rsa:2048 -nodes -subj '/CN=registry.test' -keyout registry-key.pem -out registry.csr
openssl x509 -req -in registry.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 36500 -out registry.pem \
  -extfile <(printf 'subjectAltName=DNS:registry.test,DNS:other.test,DNS:auth.test,DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n')
rm -f registry.csr ca.srl ca-key.pem
