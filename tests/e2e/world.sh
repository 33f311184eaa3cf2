# A world of its own for an end-to-end run (sourced by tests/e2e/run and bench/app):
# a loopback registry holding busybox, a temporary storage root, a registries.conf marking the
# registry insecure, a BERTH_CONFIG with a bridge and subnet no other run uses, and
# `berth-desktop --serve`. `world_cleanup` undoes all of it; call it from an EXIT trap.
#
# Needs: $bin (the directory of berth, berth-testkit and berth-desktop).

world_pids=()

# A TCP port nothing listens on now (the kernel's choice).
free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# Waits up to $2 seconds (default 60) for the file $1 to exist; fails naming it.
wait_file() {
  local file=$1 i
  for ((i = 0; i < ${2:-60} * 10; i++)); do
    [ -s "$file" ] && return 0
    sleep 0.1
  done
  echo "timed out waiting for $file" >&2
  return 1
}

# world_start NAME: exports BERTH_ROOT, BERTH_RUNROOT, BERTH_CONFIG, CONTAINERS_REGISTRIES_CONF, E2E_REGISTRY,
# E2E_IMAGE, and sets $world (its directory) and $world_bridge.
world_start() {
  local name=$1
  world=$(mktemp -d "/tmp/berth-$name.XXXXXX")
  mkdir -p "$world/root"
  export BERTH_ROOT=$world/root
  # Its run state too (else /run/berth/roots/HASH, left behind after the world is gone).
  export BERTH_RUNROOT=$world/run
  # A bridge and a /24 of this run's own: never berth0, never a subnet of the cargo tests' worlds
  # (10.200-249.x) or of another run of this script (the pid picks the third octet).
  world_bridge="b$name$(($$ % 100000))"
  world_bridge=${world_bridge:0:15}
  export BERTH_CONFIG=$world/berth.toml
  # $WORLD_SUBNET overrides (the app benchmark's 1000 containers need more than a /24).
  printf '[network]\ndefault_bridge = "%s"\ndefault_subnet = "%s"\n' \
    "$world_bridge" "${WORLD_SUBNET:-10.199.$(($$ % 256)).0/24}" >"$BERTH_CONFIG"

  "$bin/berth-testkit" registry --port-file "$world/registry.addr" >"$world/registry.log" 2>&1 &
  world_pids+=($!)
  wait_file "$world/registry.addr" || { cat "$world/registry.log" >&2; return 1; }
  export E2E_REGISTRY
  E2E_REGISTRY=$(cat "$world/registry.addr")
  export CONTAINERS_REGISTRIES_CONF=$world/registries.conf
  printf '[[registry]]\nlocation = "%s"\ninsecure = true\n' "$E2E_REGISTRY" >"$CONTAINERS_REGISTRIES_CONF"
  "$bin/berth-testkit" push-busybox --registry "$E2E_REGISTRY" --reference e2e/busybox:latest >/dev/null
  export E2E_IMAGE=$E2E_REGISTRY/e2e/busybox:latest
}

# serve_start: starts `berth-desktop --serve 127.0.0.1:0` in the world and exports BERTH_URL.
serve_start() {
  # Made before the start: the child opens its redirections after the fork, and a `sed` of a
  # file not there yet fails the assignment below under `set -e` (seen on a loaded machine).
  : >"$world/serve.out"
  : >"$world/serve.log"
  "$bin/berth-desktop" --serve 127.0.0.1:0 >"$world/serve.out" 2>"$world/serve.log" &
  world_serve_pid=$!
  world_pids+=($world_serve_pid)
  local i
  for ((i = 0; i < 300; i++)); do
    BERTH_URL=$(sed -n 's/^Berth is serving on \(http:[^ ]*\)$/\1/p' "$world/serve.out")
    [ -n "$BERTH_URL" ] && break
    kill -0 "$world_serve_pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$BERTH_URL" ]; then
    echo "berth-desktop --serve did not print its address:" >&2
    cat "$world/serve.out" "$world/serve.log" >&2
    return 1
  fi
  export BERTH_URL
}

# Stops what the world started, removes its containers, networks and bridge, and its directory.
# Goes on past every failure (it runs from EXIT traps, often under `set -e`).
world_cleanup() {
  local pid
  for pid in "${world_pids[@]}"; do
    kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  done
  world_pids=()
  [ -n "${world:-}" ] || return 0
  if [ -f "$BERTH_ROOT/state.db" ]; then
    "$bin/berth" rm -af >/dev/null 2>&1 || echo "cleanup: berth rm -af failed" >&2
    local net
    for net in $("$bin/berth" network ls -q 2>/dev/null); do
      [ "$net" = berth ] || "$bin/berth" network rm -f "$net" >/dev/null 2>&1 || true
    done
  fi
  ip link del "$world_bridge" 2>/dev/null || true
  rm -rf "$world" || echo "cleanup: could not remove $world" >&2
  world=
}
