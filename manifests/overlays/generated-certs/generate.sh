#!/usr/bin/env bash
# Writes a private CA and a serving certificate for the webhook Service into certs/ (git-ignored):
#   certs/ca.crt  certs/tls.crt  certs/tls.key
# kustomization.yaml turns them into the schedext-webhook-tls Secret and copies ca.crt into the caBundle.
# Re-run with FORCE=1 to rotate; otherwise existing certificates valid for 30 more days are kept.
set -euo pipefail
cd "$(dirname "$0")"
: "${SERVICE:=schedext-webhook}" "${NAMESPACE:=schedext-system}" "${DAYS:=365}"
command -v openssl >/dev/null || { echo "certs: openssl not found" >&2; exit 1; }
mkdir -p certs
if [ "${FORCE:-0}" != 1 ] && [ -s certs/tls.crt ] && [ -s certs/tls.key ] && [ -s certs/ca.crt ] \
  && openssl x509 -in certs/tls.crt -noout -checkend $((30 * 86400)) >/dev/null; then
  echo "certs: keeping $(pwd)/certs (valid for 30+ days; FORCE=1 to rotate)"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
umask 077
openssl ecparam -name prime256v1 -genkey -noout -out "$tmp/ca.key"
openssl req -x509 -new -sha256 -key "$tmp/ca.key" -days "$DAYS" -subj "/CN=schedext-webhook-ca" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$tmp/ca.crt"
openssl ecparam -name prime256v1 -genkey -noout -out "$tmp/tls.key"
openssl req -new -sha256 -key "$tmp/tls.key" -subj "/CN=$SERVICE.$NAMESPACE.svc" -out "$tmp/tls.csr"
cat >"$tmp/ext.cnf" <<CNF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:$SERVICE,DNS:$SERVICE.$NAMESPACE,DNS:$SERVICE.$NAMESPACE.svc,DNS:$SERVICE.$NAMESPACE.svc.cluster.local
CNF
openssl x509 -req -sha256 -in "$tmp/tls.csr" -CA "$tmp/ca.crt" -CAkey "$tmp/ca.key" -CAcreateserial \
  -days "$DAYS" -extfile "$tmp/ext.cnf" -out "$tmp/tls.crt" 2>/dev/null
openssl verify -CAfile "$tmp/ca.crt" "$tmp/tls.crt" >/dev/null
# The CA key is deliberately not kept: rotation issues a new CA. The bundle keeps the previous CA (the first
# certificate of the old bundle, while it is unexpired) after the new one: the webhook pods roll one at a time, and the
# API server must trust the ones still serving the old certificate until they are replaced. The next rotation drops it.
cp "$tmp/ca.crt" "$tmp/bundle.crt"
if [ -s certs/ca.crt ] && openssl x509 -in certs/ca.crt -out "$tmp/previous-ca.crt" 2>/dev/null \
  && openssl x509 -in "$tmp/previous-ca.crt" -noout -checkend 0 >/dev/null; then
  cat "$tmp/previous-ca.crt" >>"$tmp/bundle.crt"
fi
cp "$tmp/bundle.crt" certs/ca.crt
cp "$tmp/tls.crt" "$tmp/tls.key" certs/
chmod 600 certs/tls.key
echo "certs: wrote $(pwd)/certs (CA and serving certificate for $SERVICE.$NAMESPACE.svc, $DAYS days)"
