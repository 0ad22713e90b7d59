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

section "1. The chain's cloud: three NATS nodes (JetStream R3, MQTT 3.1.1) and PostgreSQL 15"
start_nats 3
echo "NATS cluster: ${NATS_SERVERS[*]}"
echo "MQTT for the fogs: ${CLOUD_URIS[*]}"
start_postgres
echo "PostgreSQL: $PG"

section "2. Two ledger workers (ledger-sink) sharing one key, the stream and the database"
start_ledger_worker worker-a "$PG"
start_ledger_worker worker-b "$PG"
echo "ledger public key (pinned in every fog.toml): $LEDGER_KEY"

section "3. Head office's release key (storectl chain keygen)"
HO_KEY=$("${CTL[@]}" chain keygen --out "$WORK/head-office.key")
echo "head office public key (pinned in every fog.toml): $HO_KEY"

section "4. Three stores: a store broker, three fogs, three tills each"
start_broker store-broker
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
for s in "${STORES[@]}"; do
  printf '%s (group %s): ' "$s" "${STORE_GROUP[$s]}"
  "${CTL[@]}" status $(fog_args "$s") | grep -E "^Catalog" || true
done

# release ID FILE TARGET...: a head-office catalog release, then every
# store's tills current on it (each fog here has only head office's
# versions, so release N is catalog version N).
release() {
  local id=$1 file=$2; shift 2
  "${CTL[@]}" chain release catalog "$file" --key "$WORK/head-office.key" --id "$id" "$@" \
    --broker "${CLOUD_URIS[0]}" --protocol mqtt3.1.1
  for s in "${STORES[@]}"; do
    wait_for 60 bash -c "'${CTL[0]}' status $(fog_args "$s") | grep -q 'version $id at the fog, $TILLS of $TILLS tills current'" ||
      { echo "$s: the tills did not take the release (see $WORK/$s/fogd.log)" >&2; failed=1; }
    printf '%s: ' "$s"
    "${CTL[@]}" status $(fog_args "$s") | grep -E "^Catalog" || true
  done
}
# show_prices: SKU-0042 as every till would sell it now, from its replica.
show_prices() {
  for s in "${STORES[@]}"; do
    for k in $(seq 1 "$TILLS"); do
      printf '%s till-%s: ' "$s" "$k"
      "${CTL[@]}" journal catalog --db "$WORK/$s/tills/till-$k.db" --sku SKU-0042 | tail -1
    done
  done
}

section "5. Head office releases the chain catalog to every store (storectl chain release catalog --all)"
catalog_csv 1000 393 >"$WORK/chain-catalog.csv"
release 1 "$WORK/chain-catalog.csv" --all
"${CTL[@]}" catalog versions $(fog_args store-2)
show_prices

section "6. A head-office price change: SKU-0042 from 3.93 to 3.49, for every store"
catalog_csv 1000 349 >"$WORK/chain-catalog-2.csv"
release 2 "$WORK/chain-catalog-2.csv" --all
show_prices
bad=$(show_prices | grep -vc " 3.49 " || true)
if [ "$bad" -ne 0 ]; then
  echo "FAILED: $bad tills do not sell SKU-0042 at 3.49" >&2
  failed=1
fi

DAY=$(date -u +%F)
section "7. Every store closes its day (storectl closedown), and the ledger answers each Z"
for s in "${STORES[@]}"; do
  "${CTL[@]}" closedown --day "$DAY" --wait 60 $(fog_args "$s") | grep -E "^Z |closed|Z-REPORT" | head -3 || true
done
for s in "${STORES[@]}"; do
  wait_for 60 bash -c "'${CTL[0]}' status $(fog_args "$s") | grep -q 'Last receipt: Z 1,'" ||
    { echo "$s: no ledger receipt for Z 1" >&2; failed=1; }
  printf '%s: ' "$s"
  "${CTL[@]}" status $(fog_args "$s") | grep "^Ledger" || true
done

section "8. Head office's view: the chain report from PostgreSQL (storectl chain report --pg)"
"${CTL[@]}" chain report --pg "$PG" --from "$DAY" --to "$DAY" --by store || failed=1
"${CTL[@]}" chain watch --pg "$PG" --day "$DAY" --once || failed=1

section "9. Auditing the whole ledger in PostgreSQL (storectl verify ledger)"
"${CTL[@]}" verify ledger --db "$PG" || failed=1

section "Summary"
echo "3 stores, $((3 * TILLS)) tills, 3 NATS nodes, 2 ledger workers on PostgreSQL; data kept in $WORK"
if [ "$failed" -ne 0 ]; then
  echo "FAILED: see the lines above" >&2
  exit 1
fi
echo "every till sells SKU-0042 at head office's new price; every Z is in the ledger and it verifies"
