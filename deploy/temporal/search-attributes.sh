#!/bin/sh
# One-shot job (temporalio/admin-tools): register the custom search attributes Reclaim's
# workflows upsert, so claims can be listed by status, payer, denial route and assignee.
# Creating them again is skipped, so the job can run on every `docker compose up`.
set -eu
. "$(dirname "$0")/lib.sh"
: "${SEARCH_ATTRIBUTES:=ClaimStatus:Keyword PayerId:Keyword DenialRoute:Keyword AssignedTo:Keyword}"

# has_attribute LISTING NAME [TYPE]: the `search-attribute list` table holds NAME (of TYPE).
has_attribute() {
  printf '%s\n' "$1" | awk -v n="$2" -v t="${3:-}" \
    '$1 == n && (t == "" || $2 == t) { found = 1 } END { exit !found }'
}

wait_for_temporal
existing=$(list_search_attributes)

for item in $SEARCH_ATTRIBUTES; do
  name=${item%%:*}
  type=${item#*:}
  if has_attribute "$existing" "$name" "$type"; then
    echo "search attribute $name ($type) exists"
    continue
  fi
  if has_attribute "$existing" "$name"; then
    echo "search attribute $name exists with another type than $type; fix it by hand" >&2
    exit 1
  fi
  temporal operator search-attribute create --namespace "$TEMPORAL_NAMESPACE" \
    --address "$TEMPORAL_CLI_ADDRESS" --name "$name" --type "$type"
  echo "search attribute $name ($type) created"
done

listed=$(list_search_attributes)
for item in $SEARCH_ATTRIBUTES; do
  name=${item%%:*}
  type=${item#*:}
  has_attribute "$listed" "$name" "$type" || { echo "$name ($type) is missing" >&2; exit 1; }
done
echo "search attributes ready in namespace $TEMPORAL_NAMESPACE"
