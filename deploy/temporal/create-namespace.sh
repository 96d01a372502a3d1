#!/bin/sh
# One-shot job (temporalio/admin-tools): make sure Reclaim's namespace exists.
set -eu
. "$(dirname "$0")/lib.sh"
: "${NAMESPACE_RETENTION:=30d}"

wait_for_temporal
if temporal operator namespace describe --namespace "$TEMPORAL_NAMESPACE" \
    --address "$TEMPORAL_CLI_ADDRESS" >/dev/null 2>&1; then
  echo "namespace $TEMPORAL_NAMESPACE exists"
else
  temporal operator namespace create --namespace "$TEMPORAL_NAMESPACE" \
    --retention "$NAMESPACE_RETENTION" --address "$TEMPORAL_CLI_ADDRESS"
  echo "namespace $TEMPORAL_NAMESPACE created (retention $NAMESPACE_RETENTION)"
fi
