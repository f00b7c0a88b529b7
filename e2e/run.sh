#!/usr/bin/env bash
# `make e2e`: kind cluster up, image built and loaded, SchedExt deployed, e2e tests run against it, logs dumped to
# out/e2e-logs on failure, cluster deleted if this run created it (KEEP_CLUSTER=1 keeps it for debugging). Needs docker, kind, kubectl, dotnet.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${KIND:=kind}" "${KUBECTL:=kubectl}" "${DOCKER:=docker}" "${DOTNET:=dotnet}" "${MAKE:=make}" "${CONFIG:=Release}"
: "${IMAGE:=schedext:dev}" "${KIND_CLUSTER:=schedext}" "${KIND_KUBECONFIG:=$PWD/out/kind-$KIND_CLUSTER.kubeconfig}"
for tool in "$DOCKER" "$KIND" "$KUBECTL" "$DOTNET"; do
  command -v "$tool" >/dev/null || { echo "e2e: $tool not found on PATH" >&2; exit 2; }
done
"$DOCKER" info >/dev/null 2>&1 || { echo "e2e: the docker engine is not reachable (kind needs it)" >&2; exit 2; }

logs=out/e2e-logs
dump_logs() {
  rm -rf "$logs" && mkdir -p "$logs"
  local k=("$KUBECTL" --kubeconfig "$KIND_KUBECONFIG")
  "${k[@]}" get nodes -o wide >"$logs/nodes.txt" 2>&1 || true
  "${k[@]}" get all,leases,events -n schedext-system -o wide >"$logs/schedext-system.txt" 2>&1 || true
  "${k[@]}" describe pods -n schedext-system >"$logs/describe-pods.txt" 2>&1 || true
  "${k[@]}" get events -A --sort-by=.lastTimestamp >"$logs/events.txt" 2>&1 || true
  "${k[@]}" get pods -A -l schedext.io/e2e -o yaml >"$logs/e2e-pods.yaml" 2>&1 || true
  # Every replica (the leading scheduler may not be the one `deployment/…` picks), and the previous run of each.
  for d in schedext-scheduler schedext-webhook; do
    "${k[@]}" logs -n schedext-system -l "app.kubernetes.io/name=$d" --all-containers --prefix --tail=-1 >"$logs/$d.log" 2>&1 || true
    "${k[@]}" logs -n schedext-system -l "app.kubernetes.io/name=$d" --all-containers --prefix --tail=-1 --previous >"$logs/$d.previous.log" 2>&1 || true
  done
  "$KIND" export logs "$logs/kind" --name "$KIND_CLUSTER" >/dev/null 2>&1 || true
  echo "e2e: logs in $logs/" >&2
}
cleanup() {
  local rc=$?
  if [ "$rc" -ne 0 ]; then dump_logs; fi
  if [ "${KEEP_CLUSTER:-0}" = 1 ] || [ "$created" = 0 ]; then
    echo "e2e: kept cluster $KIND_CLUSTER (KUBECONFIG=$KIND_KUBECONFIG)$([ "$created" = 0 ] && echo '; it existed before this run')"
  else
    "$KIND" delete cluster --name "$KIND_CLUSTER" >/dev/null 2>&1 || true
  fi
  exit "$rc"
}
# Only a cluster this run creates is deleted at the end.
created=1
if "$KIND" get clusters 2>/dev/null | grep -qx "$KIND_CLUSTER"; then created=0; fi
trap cleanup EXIT

"$MAKE" --no-print-directory kind-up KIND_CLUSTER="$KIND_CLUSTER" KIND_KUBECONFIG="$KIND_KUBECONFIG"
"$MAKE" --no-print-directory image IMAGE="$IMAGE"
"$KIND" load docker-image "$IMAGE" --name "$KIND_CLUSTER"
KUBECONFIG="$KIND_KUBECONFIG" "$MAKE" --no-print-directory deploy IMAGE="$IMAGE" OVERLAY=generated-certs

# In `make e2e` a cluster is guaranteed, so a test that cannot reach it fails instead of skipping.
KUBECONFIG="$KIND_KUBECONFIG" SCHEDEXT_E2E_REQUIRE_CLUSTER=1 \
  "$DOTNET" test e2e/SchedExt.E2E/SchedExt.E2E.csproj -c "$CONFIG" --logger "console;verbosity=normal"
