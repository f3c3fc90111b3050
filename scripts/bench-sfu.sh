# The SFU part of scripts/bench (sourced by it): Rooms and Janus's videoroom under the same load from SFULoad
# (one 1.5 Mbit/s VP8 + Opus publisher, N subscribers), each server pinned to one core, the load on another.
# Janus gathers ICE candidates only on a non-loopback interface, and test media must stay off the machine's own
# interfaces: the whole part runs in a private network namespace with a veth address (TESTING.md).

SFU_ADDRESS=10.77.0.1
# The machine is shared: without help a server gets only its autogroup's share of its core (the kernel groups
# CPU time by session, so `nice` alone does nothing against other sessions' builds; seen here: Rooms got 15 % of
# core 0 and its socket overflowed). Each server and the load generator get a session of their own (setsid) whose
# autogroup is raised to nice -15 (`prioritize`), so that they have their core whenever they want it.
SERVER_PIN="setsid taskset -c 0"
JANUS_LIB=/usr/lib/x86_64-linux-gnu/janus

bench_sfu() {
  command -v janus >/dev/null || { echo "janus is not installed (scripts/install-deps bench)"; exit 1; }
  swift build -c release --product SFULoad
  rm -f bench-results/sfu-*.json
  unshare -n scripts/bench sfu-netns
}

bench_sfu_in_netns() {
  ip link set lo up
  ip link add sfub0 type veth peer name sfub1
  ip addr add "$SFU_ADDRESS/24" dev sfub0
  ip link set sfub0 up
  ip link set sfub1 up
  local load_pin="setsid taskset -c $(( $(nproc) > 1 ? 1 : 0 ))" n server load
  local duration="${BENCH_DURATION:-20}"
  echo "== SFU: 1 publisher (VP8 1.5 Mbit/s + Opus) -> N subscribers, ${duration}s per run; server: $SERVER_PIN, load: $load_pin"
  for n in ${BENCH_SFU_N:-50 100 200 300}; do
    for server in rooms janus; do
      "start_sfu_$server"
      prioritize "$pid"
      $load_pin .build/release/SFULoad --server "$server" --url "$url" --subscribers "$n" \
        --duration "$duration" --pid "$pid" --address "$SFU_ADDRESS" --json "bench-results/sfu-$server-$n.json" &
      load=$!
      prioritize "$load"
      wait "$load" || { echo "$server with $n subscribers failed; server log: $log"; tail -5 "$log"
             echo "{\"server\":\"$server\",\"subscribers\":$n,\"failed\":true}" > "bench-results/sfu-$server-$n.json"; }
      "stop_sfu_$server"
    done
  done
  python3 scripts/bench-sfu-report.py bench-results
}

prioritize() {  # pid of a process started with setsid: waits until it leads its session, or its old group would be raised
  for _ in $(seq 1 100); do
    if [ "$(ps -o sid= -p "$1" | tr -d ' ')" = "$1" ]; then
      echo -15 > "/proc/$1/autogroup" && return
    fi
    sleep 0.02
  done
  echo "could not raise the priority of $1: figures will be noisier"
}

start_sfu_rooms() {  # sets $url, $pid, $log
  PIN="$SERVER_PIN" start_server
  url="http://127.0.0.1:$port/"
  log="$dir/server.log"
}
stop_sfu_rooms() { stop_server; }

start_sfu_janus() {  # sets $url, $pid, $log
  janus_dir=$(mktemp -d)
  local port; port=$(free_port)
  write_janus_config "$janus_dir" "$port"
  log="$janus_dir/janus.log"
  $SERVER_PIN janus -F "$janus_dir" -C "$janus_dir/janus.jcfg" -o > "$log" 2>&1 &
  pid=$!
  url="http://127.0.0.1:$port/janus"
  for _ in $(seq 1 100); do curl -sf "$url/info" >/dev/null && return; sleep 0.1; done
  echo "janus did not start"; cat "$log"; exit 1
}
stop_sfu_janus() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$janus_dir"; }

# Only the videoroom plugin and the HTTP transport are loaded (Janus loads every library in its folders).
write_janus_config() {  # dir http-port
  local d=$1
  mkdir -p "$d/plugins" "$d/transports" "$d/events" "$d/loggers"
  ln -s "$JANUS_LIB/plugins/libjanus_videoroom.so" "$d/plugins/"
  ln -s "$JANUS_LIB/transports/libjanus_http.so" "$d/transports/"
  cat > "$d/janus.jcfg" <<EOF
general: {
  configs_folder = "$d"
  plugins_folder = "$d/plugins"
  transports_folder = "$d/transports"
  events_folder = "$d/events"
  loggers_folder = "$d/loggers"
  debug_level = 4
  interface = "$SFU_ADDRESS"
}
media: {
  rtp_port_range = "20000-40000"
}
nat: {
  ice_enforce_list = "$SFU_ADDRESS"
  ignore_mdns = true
}
EOF
  cat > "$d/janus.transport.http.jcfg" <<EOF
general: {
  json = "plain"
  base_path = "/janus"
  http = true
  port = $2
  ip = "127.0.0.1"
  https = false
}
admin: {
  admin_http = false
}
EOF
  printf 'general: {\n}\n' > "$d/janus.plugin.videoroom.jcfg"
}
