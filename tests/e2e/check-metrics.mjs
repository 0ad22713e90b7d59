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
  storenode_build_info: 'GAUGE',
  storenode_fog_broker_connected: 'GAUGE',
  storenode_fog_till_online: 'GAUGE',
  storenode_fog_till_backlog_events: 'GAUGE',
  storenode_fog_till_last_seen_age_seconds: 'GAUGE',
  storenode_fog_till_quarantined_batches: 'GAUGE',
  storenode_fog_quarantined_batches: 'GAUGE',
  storenode_fog_events_stored_total: 'COUNTER',
  storenode_fog_ingest_commit_duration_seconds: 'HISTOGRAM',
  storenode_fog_closedown_duration_seconds: 'HISTOGRAM',
  storenode_fog_ledger_backlog: 'GAUGE',
  storenode_fog_ledger_alerts_total: 'COUNTER',
  storenode_fog_database_size_bytes: 'GAUGE',
  storenode_fog_disk_free_bytes: 'GAUGE',
  process_resident_memory_bytes: 'GAUGE',
  process_cpu_seconds_total: 'COUNTER',
  process_open_fds: 'GAUGE',
  process_start_time_seconds: 'GAUGE',
};
// Gone: a rate between scrapes (rate() does that) and a name promtool refuses.
const gone = ['storenode_fog_ingest_events_per_second', 'storenode_fog_quarantine_count'];
const byName = Object.fromEntries(families.map((f) => [f.name, f]));
for (const name of gone) {
  if (byName[name]) {
    console.error('family ' + name + ' should be gone');
    process.exit(1);
  }
}
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
    const values = type === 'HISTOGRAM' ? [m.count, m.sum, ...Object.values(m.buckets)] : [m.value];
    for (const v of values) {
      if (!Number.isFinite(Number(v))) {
        console.error(`${name}: value ${v} is not a number`);
        process.exit(1);
      }
    }
  }
}
console.log(JSON.stringify(families));
