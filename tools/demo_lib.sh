# Shared by tools/demo (one store) and its --chain mode (tools/demo_chain.sh):
# the work directory, the processes to stop at exit, and starting each part
# of the system on free loopback ports. Every start_* retries on new ports
# (port 0 does not work for mosquitto, and a port can be taken between the
# pick and the bind) and exits the demo with one line when it cannot.

STEP=0
# step NAME TEXT: one numbered line; more lines of the step with `more`.
step() { STEP=$((STEP + 1)); printf '%2d %-12s %s\n' "$STEP" "$1" "$2"; }
more() { printf '   %-12s %s\n' "" "$*"; }
# csv FILE SECTION KEY: the value of a section,key,value report row.
csv() { awk -F, -v s="$2" -v k="$3" '$1 == s && $2 == k {print $3}' "$1"; }
# tax FILE: the sum of the tax of every rate.
tax() { awk -F, '$1 ~ /^tax:/ && $2 == "tax" {t += $3} END {printf "%.2f", t}' "$1"; }


WORK="$(mktemp -d /tmp/storenode-demo.XXXXXX)"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -n "${PG_DATA:-}" ] && as_postgres /usr/lib/postgresql/15/bin/pg_ctl -D "$PG_DATA" -m fast stop >/dev/null 2>&1 || true
}
trap cleanup EXIT
echo "demo data in $WORK"

free_port() { echo $((20000 + RANDOM % 20000)); }

# wait_for SECONDS COMMAND...: until COMMAND succeeds; 1 if it never does.
wait_for() {
  local end=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -ge "$end" ] && return 1
    sleep 0.2
  done
}

# http_ok PORT PATH: a 200 with "ok" in the body, without curl.
http_ok() {
  local answer
  exec 9<>"/dev/tcp/127.0.0.1/$1" || return 1
  printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$2" >&9
  answer=$(cat <&9)
  exec 9<&-
  [[ "$answer" == *" 200 "* && "$answer" == *'"ok"'* ]]
}

# start_broker NAME: a mosquitto on a free loopback port; sets PORT.
start_broker() {
  local name=$1 pid
  for _ in 1 2 3 4 5 6 7 8; do
    PORT=$(free_port)
    cat >"$WORK/$name.conf" <<CONF
listener $PORT 127.0.0.1
allow_anonymous true
max_queued_messages 100000
message_size_limit 16777216
persistence false
log_dest file $WORK/$name.log
CONF
    [ "$(id -u)" -eq 0 ] && echo "user root" >>"$WORK/$name.conf"
    mosquitto -c "$WORK/$name.conf" &
    pid=$!
    sleep 0.5
    if kill -0 "$pid" 2>/dev/null; then
      PIDS+=("$pid")
      return 0
    fi
  done
  echo "could not start mosquitto ($name)" >&2
  exit 1
}

# start_nats N: the chain's cloud broker, N nats-server nodes (1, or a
# cluster of 3 with explicit routes) with JetStream and MQTT 3.1.1; sets
# NATS_SERVERS (nats://, for the workers) and CLOUD_URIS (tcp://, the MQTT
# side the fogs speak), one entry per node.
start_nats() {
  local n=$1 i j base pid ok
  for _ in 1 2 3 4 5 6; do
    NATS_SERVERS=(); CLOUD_URIS=(); local pids=() http=()
    base=$(free_port)
    for i in $(seq 0 $((n - 1))); do
      local p=$((base + 4 * i)) dir="$WORK/nats-$((i + 1))"
      mkdir -p "$dir"
      {
        echo "server_name: cloud-$((i + 1))"
        echo "listen: 127.0.0.1:$p"
        echo "http: 127.0.0.1:$((p + 2))"
        echo "jetstream { store_dir: \"$dir/js\" }"
        echo "mqtt { listen: 127.0.0.1:$((p + 1)), stream_replicas: $n }"
        if [ "$n" -gt 1 ]; then
          echo "cluster { name: demo-chain, listen: 127.0.0.1:$((p + 3)), routes: ["
          for j in $(seq 0 $((n - 1))); do
            [ "$j" -ne "$i" ] && echo "  nats-route://127.0.0.1:$((base + 4 * j + 3))"
          done
          echo "] }"
        fi
      } >"$dir/nats.conf"
      nats-server -c "$dir/nats.conf" >"$dir/nats.log" 2>&1 &
      pids+=($!); http+=($((p + 2)))
      NATS_SERVERS+=("nats://127.0.0.1:$p"); CLOUD_URIS+=("tcp://127.0.0.1:$((p + 1))")
    done
    ok=1
    for i in $(seq 0 $((n - 1))); do
      wait_for 30 http_ok "${http[$i]}" /healthz || ok=0
    done
    if [ "$ok" -eq 1 ]; then
      PIDS+=("${pids[@]}")
      return 0
    fi
    kill "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
    rm -rf "$WORK"/nats-*
  done
  echo "could not start nats-server (see $WORK/nats-*/nats.log)" >&2
  exit 1
}

# as_postgres CMD...: PostgreSQL refuses to run as root; as root the
# throwaway cluster belongs to user postgres.
as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# start_postgres: a throwaway PostgreSQL 15 cluster in $WORK/pg on a free
# loopback port, with a database "ledger"; sets PG (a libpq conninfo).
start_postgres() {
  local bin=/usr/lib/postgresql/15/bin port
  PG_DATA="$WORK/pg/data"
  mkdir -p "$WORK/pg"
  # mktemp's 0700 would keep user postgres out; let it through, not in.
  [ "$(id -u)" -eq 0 ] && chmod o+x "$WORK" && chown postgres "$WORK/pg"
  as_postgres "$bin/initdb" -D "$PG_DATA" -U postgres -A trust -E UTF8 --no-locale >"$WORK/pg/initdb.log"
  for _ in 1 2 3 4 5 6 7 8; do
    port=$(free_port)
    if as_postgres "$bin/pg_ctl" -D "$PG_DATA" -l "$WORK/pg/postgres.log" -w -t 30 \
      -o "-p $port -k $WORK/pg -c listen_addresses=127.0.0.1" start >/dev/null; then
      PG="host=127.0.0.1 port=$port dbname=ledger user=postgres"
      psql -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -c "CREATE DATABASE ledger" >/dev/null
      return 0
    fi
  done
  echo "could not start PostgreSQL (see $WORK/pg/postgres.log)" >&2
  exit 1
}

# toml_list A B...: ["A", "B"]
toml_list() {
  local out="" x
  for x in "$@"; do out+="${out:+, }\"$x\""; done
  echo "[$out]"
}

# start_ledger_worker NAME [POSTGRES]: ledger-sink on the NATS cluster, with
# PostgreSQL when given (any number of workers) or SQLite (one worker); the
# first worker makes the ledger key, later ones get a copy. Sets LEDGER_KEY.
start_ledger_worker() {
  local name=$1 pg=${2:-} dir="$WORK/$1"
  mkdir -p "$dir"
  [ -n "${LEDGER_KEY_FILE:-}" ] && cp "$LEDGER_KEY_FILE" "$dir/ledger.key" && chmod 600 "$dir/ledger.key"
  cat >"$dir/ledger-sink.toml" <<CONF
[ledger]
id = "demo-chain-ledger"
key_file = "$dir/ledger.key"

[nats]
servers = $(toml_list "${NATS_SERVERS[@]}")  # demo only: production uses tls:// (firmware-configs/ledger-sink.toml)
replicas = ${#NATS_SERVERS[@]}  # a chain runs three nodes, at R3

[data]
dir = "$dir"
CONF
  [ -n "$pg" ] && printf '\n[storage]\npostgres = "%s"\n' "$pg" >>"$dir/ledger-sink.toml"
  "$BIN/ledger-sink" --config "$dir/ledger-sink.toml" 2>"$dir/ledger-sink.log" &
  PIDS+=($!)
  if ! wait_for 30 grep -q "ledger-sink ready" "$dir/ledger-sink.log"; then
    echo "ledger worker $name did not start (see $dir/ledger-sink.log)" >&2
    exit 1
  fi
  LEDGER_KEY_FILE="$dir/ledger.key"
  LEDGER_KEY=$(grep -o 'key [0-9a-f:]* ([0-9a-f]*)' "$dir/ledger-sink.log" | head -1 | sed 's/.*(\(.*\))/\1/')
}

# write_fog_toml STORE NAME BROKER [EXTRA]: the fog's config in
# $WORK/STORE/fog.toml, the store's terms as a German shop's, three tills,
# the ledger link to every cloud node; EXTRA is appended (e.g. [head_office]).
write_fog_toml() {
  local store=$1 name=$2 broker=$3 extra=${4:-}
  mkdir -p "$WORK/$store"
  cat >"$WORK/$store/fog.toml" <<CONF
[store]
id = "$store"
name = "$name"
address = "Friedrichstrasse 1, 10117 Berlin"
tax_id = "DE123456789"
time_zone = "Europe/Berlin"
day_start = "04:00"
currency = "EUR"
cash_rounding = 5
locale = "de-DE"

[store.tax.A]
name = "Standard"
rates = ["2000-01-01T00:00 20%"]

[store.tax.B]
name = "Reduced"
rates = ["2000-01-01T00:00 5.5%"]

[store.tax.C]
name = "Zero"
rates = ["2000-01-01T00:00 0%"]

[broker]
uri = "$broker"
client_id = "$store-fog"  # unique per broker: the stores of --chain share one
insecure = true  # demo only: production uses ssl:// with client certificates

[data]
dir = "$WORK/$store/fog"

[tills]
expected = ["till-1", "till-2", "till-3"]

[log]
level = "info"

[roles]
supervisor = ["demo"]  # storectl --manager demo imports catalogs

[ledger]
uris = $(toml_list "${CLOUD_URIS[@]}")
protocol = "mqtt3.1.1"  # NATS speaks MQTT 3.1.1
insecure = true
public_key = "$LEDGER_KEY"
$extra
CONF
  cat >"$WORK/$store/storectl.toml" <<CONF
[store]
id = "$store"

[broker]
uri = "$broker"
insecure = true
CONF
}

# start_fog STORE: storenode-fogd on $WORK/STORE/fog.toml, until it has
# issued the store settings (data.dir/settings.pb).
start_fog() {
  "$BIN/storenode-fogd" --config "$WORK/$1/fog.toml" 2>"$WORK/$1/fogd.log" &
  PIDS+=($!)
  if ! wait_for 20 test -s "$WORK/$1/fog/settings.pb"; then
    echo "the fog of $1 did not start (see $WORK/$1/fogd.log)" >&2
    exit 1
  fi
}

# catalog_csv N PRICE42: N items, SKU-0042 at PRICE42 minor units.
catalog_csv() {
  echo "sku,barcodes,name,price,tax_code,department,active"
  for i in $(seq 1 "$1"); do
    local price=$((99 + i * 7))
    [ "$i" -eq 42 ] && price=$2
    printf 'SKU-%04d,400%010d,Item %d,%d,%s,dept-%d,1\n' "$i" "$i" "$i" "$price" \
      "$(echo ABC | cut -c $((i % 3 + 1)))" $((i % 12))
  done
}
