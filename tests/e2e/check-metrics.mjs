// Parses a /metrics answer with parse-prometheus-text-format (a parser the
// project did not write) and checks the families the fog promises:
//   node check-metrics.mjs FILE
// Prints the parsed families as JSON; exit code 1 with the reason if the
// text does not parse or a family is missing or of the wrong type.
import parse from 'parse-prometheus-text-format';
import {readFileSync} from 'node:fs';

const text = readFileSync(process.argv[2], 'utf8');
let families;
try {
  families = parse(text);
} catch (e) {
  console.error('does not parse as Prometheus text: ' + e.message);
  process.exit(1);
}
const want = {
  storenode_fog_broker_connected: 'GAUGE',
  storenode_fog_till_online: 'GAUGE',
  storenode_fog_till_backlog_events: 'GAUGE',
  storenode_fog_till_last_seen_age_seconds: 'GAUGE',
  storenode_fog_till_quarantined: 'GAUGE',
  storenode_fog_quarantine_count: 'GAUGE',
  storenode_fog_events_stored_total: 'COUNTER',
  storenode_fog_ingest_events_per_second: 'GAUGE',
  storenode_fog_closedown_duration_seconds: 'GAUGE',
  storenode_fog_ledger_backlog: 'GAUGE',
};
const byName = Object.fromEntries(families.map((f) => [f.name, f]));
for (const [name, type] of Object.entries(want)) {
  const f = byName[name];
  if (!f) {
    console.error('missing family ' + name);
    process.exit(1);
  }
  if (f.type !== type) {
    console.error(`${name} is ${f.type}, want ${type}`);
    process.exit(1);
  }
  for (const m of f.metrics) {
    if (!Number.isFinite(Number(m.value))) {
      console.error(`${name}: value ${m.value} is not a number`);
      process.exit(1);
    }
  }
}
console.log(JSON.stringify(families));
