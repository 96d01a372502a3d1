# Sourced by the one-shot admin-tools jobs: wait until the Temporal frontend answers.
: "${TEMPORAL_ADDRESS:=temporal:7233}"
: "${TEMPORAL_NAMESPACE:=default}"

host=${TEMPORAL_ADDRESS%:*}
port=${TEMPORAL_ADDRESS##*:}
# Dial the IPv4 address: the frontend binds 0.0.0.0 and the container name may resolve to
# an IPv6 address first.
ipv4=$(getent ahostsv4 "$host" | awk 'NR == 1 { print $1 }')
TEMPORAL_CLI_ADDRESS="${ipv4:-$host}:$port"

wait_for_temporal() {
  tries=0
  until temporal operator cluster health --address "$TEMPORAL_CLI_ADDRESS" >/dev/null 2>&1; do
    tries=$((tries + 1))
    if [ "$tries" -ge 60 ]; then
      echo "Temporal at $TEMPORAL_ADDRESS is not healthy after $tries tries" >&2
      exit 1
    fi
    sleep 2
  done
  echo "Temporal at $TEMPORAL_ADDRESS is serving"
}

# A namespace created a moment ago is not in the frontend's namespace cache yet (it refreshes
# every few seconds), so calls scoped to it are retried for a while.
retry() {
  tries=0
  until "$@"; do
    tries=$((tries + 1))
    if [ "$tries" -ge 30 ]; then
      echo "gave up after $tries tries: $*" >&2
      return 1
    fi
    sleep 2
  done
}

list_search_attributes() {
  retry temporal operator search-attribute list --namespace "$TEMPORAL_NAMESPACE" \
    --address "$TEMPORAL_CLI_ADDRESS"
}
