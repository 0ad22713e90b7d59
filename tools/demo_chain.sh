# tools/demo --chain: a retail chain on this machine. Three stores (each a
# fog with three simulated tills; they share one store broker here, as the
# topics carry the store id), the chain's cloud as a three-node NATS cluster
# (JetStream at R3, MQTT 3.1.1 for the fogs), a throwaway PostgreSQL 15 and
# two ledger workers on it. Head office releases the chain's catalog to every
# store, then a price change; the demo shows it reach every till. Each store
# closes its day; head office reads the chain report and audits the ledger.
# Sourced by tools/demo after tools/demo_lib.sh.
STORES=(store-1 store-2 store-3)
declare -A STORE_NAME=([store-1]="Musterladen Mitte" [store-2]="Musterladen Nord"
  [store-3]="Musterladen Sued")
declare -A STORE_GROUP=([store-1]=north [store-2]=north [store-3]=south)
TILLS=3
SALES=100
CTL=("$BIN/storectl")
failed=0
SELLING=()
fog_args() { echo --config "$WORK/$1/storectl.toml" --manager demo; }

start_nats 3
start_postgres
start_ledger_worker worker-a "$PG"
start_ledger_worker worker-b "$PG"
step cloud "3 NATS nodes (JetStream R3, MQTT 3.1.1 for fogs), PostgreSQL 15, 2 ledger workers, key ${LEDGER_KEY:0:16}..."
HO_KEY=$("${CTL[@]}" chain keygen --out "$WORK/head-office.key")
step "head office" "release key ${HO_KEY:0:16}... (storectl chain keygen), pinned in every fog.toml"

start_broker store-broker >/dev/null 2>&1
BROKER="tcp://127.0.0.1:$PORT"
for s in "${STORES[@]}"; do
  write_fog_toml "$s" "${STORE_NAME[$s]}" "$BROKER" "
[head_office]
public_key = \"$HO_KEY\"
groups = [\"${STORE_GROUP[$s]}\"]"
  start_fog "$s"
done
for s in "${STORES[@]}"; do
  SIM=("$BIN/pos-sim" --tills "$TILLS" --seed "${s#store-}" --store "$s" --data "$WORK/$s/tills"
    --settings "$WORK/$s/fog/settings.pb" --broker "$BROKER" --insecure)
  "${SIM[@]}" --sales "$SALES" --wait-synced 120 >"$WORK/$s/pos-sim.json" 2>"$WORK/$s/pos-sim.log" &
  SELLING+=($!)
done
for p in "${SELLING[@]}"; do
  wait "$p" || { echo "a store's tills did not sync (see $WORK/store-*/pos-sim.log)" >&2; exit 1; }
done
for s in "${STORES[@]}"; do
  # The tills stay on line (selling nothing more) for the catalog and the close-down.
  "$BIN/pos-sim" --tills "$TILLS" --store "$s" --data "$WORK/$s/tills" --broker "$BROKER" \
    --insecure --settings "$WORK/$s/fog/settings.pb" --sales 0 --linger 3600 >/dev/null \
    2>>"$WORK/$s/pos-sim.log" &
  PIDS+=($!)
done
sleep 2
step stores "${#STORES[@]} stores (groups north, north, south), $TILLS tills each, $((TILLS * SALES)) receipts per store synced to its fog"

# release ID FILE TARGET...: a head-office catalog release, then every
# store's tills current on it (each fog here has only head office's
# versions, so release N is catalog version N).
release() {
  local id=$1 file=$2; shift 2
  "${CTL[@]}" chain release catalog "$file" --key "$WORK/head-office.key" --id "$id" "$@" \
    --broker "${CLOUD_URIS[0]}" --protocol mqtt3.1.1 >"$WORK/release-$id.txt"
  for s in "${STORES[@]}"; do
    wait_for 60 bash -c "'${CTL[0]}' status $(fog_args "$s") | grep -q 'version $id at the fog, $TILLS of $TILLS tills current'" ||
      { echo "$s: the tills did not take release $id (see $WORK/$s/fogd.log)" >&2; failed=1; }
  done
}
# prices: SKU-0042 as each store's tills would sell it now, from their replicas.
prices() {
  for s in "${STORES[@]}"; do
    local line="$s:"
    for k in $(seq 1 "$TILLS"); do
      line+=" till-$k $("${CTL[@]}" journal catalog --db "$WORK/$s/tills/till-$k.db" --sku SKU-0042 |
        awk 'NR == 2 {print $2 " (v" substr($NF, 1, length($NF) - 1) ")"}')"
    done
    more "$line"
  done
}

catalog_csv 1000 393 >"$WORK/chain-catalog.csv"
release 1 "$WORK/chain-catalog.csv" --all
step catalog "release 1 to every store (1000 items): SKU-0042 at each till:"
prices
catalog_csv 1000 349 >"$WORK/chain-catalog-2.csv"
release 2 "$WORK/chain-catalog-2.csv" --all
step "price change" "release 2, SKU-0042 from 3.93 to 3.49 for every store, at each till:"
prices
bad=$(prices | grep -o 'till-[0-9] [0-9.]*' | grep -vc ' 3.49$' || true)
if [ "$bad" -ne 0 ]; then
  echo "FAILED: $bad tills do not sell SKU-0042 at 3.49" >&2
  failed=1
fi

DAY=$(date -u +%F)
receipts=""
for s in "${STORES[@]}"; do
  "${CTL[@]}" closedown --day "$DAY" --wait 60 $(fog_args "$s") >"$WORK/$s/z-report.txt"
done
for s in "${STORES[@]}"; do
  wait_for 60 bash -c "'${CTL[0]}' status $(fog_args "$s") | grep -q 'Last receipt: Z 1,'" ||
    { echo "$s: no ledger receipt for Z 1" >&2; failed=1; }
  receipts+="${receipts:+, }$s $("${CTL[@]}" status $(fog_args "$s") | grep -o 'leaf [0-9]* of [0-9]*')"
done
step close-down "every store closed $DAY; ledger receipts: $receipts"

"${CTL[@]}" chain report --pg "$PG" --from "$DAY" --to "$DAY" --by store >"$WORK/chain-report.txt" || failed=1
step "chain report" "from PostgreSQL (chain-report.txt):"
grep -E '^(STORE|store-|  Total)' "$WORK/chain-report.txt" | while IFS= read -r line; do more "$line"; done
more "$("${CTL[@]}" chain watch --pg "$PG" --day "$DAY" --once | tail -1)"

"${CTL[@]}" verify ledger --db "$PG" >"$WORK/audit.txt" || failed=1
step audit "$(tail -1 "$WORK/audit.txt") in PostgreSQL: $(sed -n 2p "$WORK/audit.txt")"

echo
if [ "$failed" -ne 0 ]; then
  echo "FAILED: see the lines above and $WORK" >&2
  exit 1
fi
echo "every till sells SKU-0042 at head office's new price; every Z is in the ledger, which verifies"
