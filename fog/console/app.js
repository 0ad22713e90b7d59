// The manager console's page logic: plain JavaScript, no libraries.
//
// Every action is POST /api/request with a FogRequest as JSON (the same
// requests storectl sends on fog/req) and the CSRF token of the session in
// X-CSRF-Token. Errors come back as a FogResponse with ok false and error
// set; they are shown as they are. Money is in minor units (int64 arrives as
// a string in protobuf JSON), shown in the store's currency and locale
// (fog.toml [store], sent with the session) by Intl.NumberFormat. "Today" is
// the store's business day as the fog computes it (StoreStatus.businessDay,
// in the store's zone and day start), never the browser's date. Foreign
// cash is in its own currency's minor units, whose decimals come from the
// fog's table (ConsoleSession.decimalsByCurrency), never from the browser.
'use strict';

const $ = (id) => document.getElementById(id);
let csrf = '';
let tillsTimer = null;
let lastStatus = null;
// The store's terms from the session; amountFormat is built from them.
let store = {locale: 'en-GB', currency: '', decimals: 2, decimalsByCurrency: {}};
let amountFormat = null;

function useStoreTerms(session) {
  store = {
    locale: session.locale || 'en-GB',
    currency: session.currency || '',
    decimals: Number(session.currencyDecimals ?? 2),
    decimalsByCurrency: session.decimalsByCurrency || {},
  };
  const digits = {minimumFractionDigits: store.decimals, maximumFractionDigits: store.decimals};
  try {
    amountFormat = new Intl.NumberFormat(store.locale, store.currency ?
        {style: 'currency', currency: store.currency, ...digits} : digits);
  } catch (e) {
    amountFormat = new Intl.NumberFormat('en-GB', digits);  // an unknown locale
  }
}

// Minor units (a number or protobuf's int64 string) as a decimal string,
// exactly: "-1234" with 2 decimals -> "-12.34". `d`: the store's decimals
// unless given.
function decimalOf(minor, d = store.decimals) {
  const n = BigInt(minor || 0);
  const a = n < 0n ? -n : n;
  const unit = 10n ** BigInt(d);
  const frac = d > 0 ? '.' + String(a % unit).padStart(d, '0') : '';
  return (n < 0n ? '-' : '') + String(a / unit) + frac;
}

// Intl formats a decimal string without rounding it through a double.
function money(minor) {
  const text = decimalOf(minor);
  return amountFormat ? amountFormat.format(text) : text;
}

// The decimals of a foreign currency (the fog's table; a rate sheet only
// takes currencies it has).
const decimalsOf = (currency) => Number(store.decimalsByCurrency[currency] ?? 2);

// An amount of a foreign currency in its own decimals, in the store's
// locale: "1,234.50 USD".
function foreignMoney(minor, currency) {
  const d = decimalsOf(currency);
  let text = decimalOf(minor, d);
  try {
    text = new Intl.NumberFormat(store.locale,
        {minimumFractionDigits: d, maximumFractionDigits: d}).format(text);
  } catch (e) {
    // An unknown locale: the plain decimal.
  }
  return text + ' ' + currency;
}

// "152.35" (or "152,35") -> 15235 with 2 decimals; null when it is not an
// amount with at most `d` decimals (the store's unless given).
function parseMoney(text, d = store.decimals) {
  const frac = d > 0 ? '(?:[.,](\\d{1,' + d + '}))?' : '';
  const m = new RegExp('^\\s*(-?)(\\d+)' + frac + '\\s*$').exec(text);
  if (!m) return null;
  const minor = Number(m[2]) * 10 ** d + Number((m[3] || '').padEnd(d, '0') || '0');
  return m[1] ? -minor : minor;
}

// A drawer's over/short cell: "unknown" when not counted, else "over X",
// "short X" or zero, X formatted by `format`.
function overShortText(counted, overShort, format) {
  if (!counted) return 'unknown';
  const os = BigInt(overShort || 0);
  if (os === 0n) return format(0);
  return (os > 0n ? 'over ' : 'short ') + format(String(os > 0n ? os : -os));
}

function age(us, nowUs) {
  const n = Number(us || 0);
  if (!n) return 'never';
  const s = Math.max(0, Math.round((nowUs - n) / 1e6));
  if (s < 120) return s + ' s ago';
  if (s < 7200) return Math.round(s / 60) + ' min ago';
  return Math.round(s / 3600) + ' h ago';
}

function cell(row, text, cls) {
  const td = row.insertCell();
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
}

// A POST answered with a file: saved under the name the fog gives it.
async function download(url, body) {
  const r = await fetch(url, {
    method: 'POST',
    headers: {'Content-Type': 'application/json', 'X-CSRF-Token': csrf},
    body: JSON.stringify(body),
    credentials: 'same-origin',
  });
  if (r.status === 401) {
    showLogin();
    throw new Error('logged out: log in again');
  }
  if (!r.ok) {
    const answer = await r.json().catch(() => ({}));
    throw new Error(answer.error || 'HTTP ' + r.status);
  }
  const name = /filename="([^"]+)"/.exec(r.headers.get('Content-Disposition') || '');
  const a = document.createElement('a');
  a.href = URL.createObjectURL(await r.blob());
  a.download = name ? name[1] : 'report.csv';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

async function post(url, body, accept) {
  const r = await fetch(url, {
    method: 'POST',
    headers: {'Content-Type': 'application/json', 'X-CSRF-Token': csrf},
    body: JSON.stringify(body),
    credentials: 'same-origin',
  });
  if (r.status === 401 && url !== '/api/login') {
    showLogin();
    throw new Error('logged out: log in again');
  }
  if (accept === 'text' && r.ok) return r.text();
  let answer;
  try {
    answer = await r.json();
  } catch (e) {
    throw new Error('the fog answered HTTP ' + r.status);
  }
  if (!r.ok || answer.ok === false) throw new Error(answer.error || 'HTTP ' + r.status);
  return answer;
}

const ask = (request) => post('/api/request', request);

// Views -----------------------------------------------------------------

const views = ['login', 'tills', 'closedown', 'z', 'report', 'stock', 'ledger'];

function show(name, arg) {
  for (const v of views) $(v + '-view').hidden = v !== name;
  document.body.classList.remove('nav-open');
  clearInterval(tillsTimer);
  tillsTimer = null;
  if (name === 'tills') {
    refreshTills();
    tillsTimer = setInterval(refreshTills, 2000);
  } else if (name === 'closedown') {
    prepareCloseDown();
  } else if (name === 'z') {
    prepareReports();
  } else if (name === 'report') {
    prepareReport(arg);
  } else if (name === 'stock') {
    refreshStock();
  } else if (name === 'ledger') {
    refreshLedger();
  }
}

function route() {
  if (!csrf) return showLogin();
  // "#report/departments": a view and its argument.
  const [name, arg] = (location.hash || '#tills').slice(1).split('/');
  show(views.includes(name) && name !== 'login' ? name : 'tills', arg);
}

function showLogin() {
  csrf = '';
  $('nav').hidden = true;
  show('login');
}

async function status() {
  const r = await ask({status: {}});
  lastStatus = r.status;
  $('store-id').textContent = r.status.storeId;
  return r.status;
}

// Tills -----------------------------------------------------------------

async function refreshTills() {
  try {
    const s = await status();
    const now = Number(s.timeUs);
    const body = $('tills-table').tBodies[0];
    body.replaceChildren();
    for (const t of s.tills) {
      const row = body.insertRow();
      row.dataset.device = t.deviceId;
      cell(row, t.deviceId);
      cell(row, t.online ? 'online' : 'offline', 'connection ' + (t.online ? 'online' : 'offline'));
      cell(row, t.state);
      cell(row, age(t.lastSeenUs, now));
      cell(row, String(t.backlog), 'num');
      cell(row, Number(t.backlog) > 0 ? age(t.oldestUnackedUs, now) : 'none', 'num');
      cell(row, String(t.catalogVersion), 'num');
      cell(row, String(t.quarantined), 'num');
    }
    $('tills-updated').textContent =
        'Updated ' + new Date(now / 1000).toLocaleTimeString() + '; updates every 2 seconds. ' +
        s.quarantineCount + ' quarantined batches in all.';
    // Voucher cards redeemed below zero (offline redemptions at two tills).
    const overdrafts = Number(s.voucherOverdrafts || 0);
    $('voucher-alerts').textContent = overdrafts === 0 ? '' :
        'ALERT: ' + overdrafts + ' voucher overdraft(s): ' + (s.voucherAlerts || []).map(
            (a) => 'card ' + a.cardId + ' at ' + money(a.balance) + ' after ' + a.deviceId +
                ' seq ' + a.seq).join('; ');
    $('tills-error').textContent = '';
  } catch (e) {
    $('tills-error').textContent = e.message;
  }
}

// Close-down -------------------------------------------------------------

let closeDownPoll = null;

async function prepareCloseDown() {
  clearTimeout(closeDownPoll);
  try {
    const s = await status();
    if (!$('cd-day').value) $('cd-day').value = s.businessDay;
    const body = $('cd-drawers').tBodies[0];
    body.replaceChildren();
    for (const t of s.tills) {
      const row = body.insertRow();
      row.dataset.device = t.deviceId;
      cell(row, t.deviceId);
      cell(row, t.online ? 'not yet asked' : 'offline: cannot seal', 'sealed');
      const input = document.createElement('input');
      input.className = 'count';
      input.inputMode = 'decimal';
      input.placeholder = decimalOf(0);
      input.dataset.device = t.deviceId;
      row.insertCell().append(input);
    }
    await prepareForeignCounts($('cd-day').value);
  } catch (e) {
    $('cd-error').textContent = e.message;
  }
}

// One input per foreign drawer (till, currency) the day's X-report has,
// in that currency's decimals; the table stays hidden when there is none.
async function prepareForeignCounts(day) {
  const table = $('cd-foreign');
  table.hidden = true;
  const x = (await ask({report: {kind: 'x', businessDay: day}})).report.x || {};
  // Cleared after the answer, so that two overlapping calls (the view
  // opened, the day changed) do not both add their rows.
  const body = table.tBodies[0];
  body.replaceChildren();
  for (const d of x.foreignDrawers || []) {
    const row = body.insertRow();
    row.dataset.device = d.deviceId;
    row.dataset.currency = d.currency;
    cell(row, d.deviceId);
    cell(row, d.currency);
    cell(row, foreignMoney(d.expected, d.currency), 'num expected');
    const input = document.createElement('input');
    input.className = 'fx-count';
    input.inputMode = 'decimal';
    input.placeholder = decimalOf(0, decimalsOf(d.currency));
    input.dataset.device = d.deviceId;
    input.dataset.currency = d.currency;
    input.setAttribute('aria-label', 'Counted ' + d.currency + ' in ' + d.deviceId +
                       ', expected ' + foreignMoney(d.expected, d.currency));
    row.insertCell().append(input);
  }
  table.hidden = body.rows.length === 0;
}

// The minor units an input holds (null when it is empty), or the one-line
// reason it is not an amount of 0 or more with at most `d` decimals.
function countedIn(input, what, d, currency) {
  input.classList.remove('bad');
  if (input.value.trim() === '') return null;
  const minor = parseMoney(input.value, d);
  if (minor !== null && minor >= 0) return minor;
  input.classList.add('bad');
  throw new Error(what + ' must be an amount of ' + decimalOf(0, d) + ' or more in ' + currency +
                  ' with ' + (d > 0 ? 'at most ' + d : 'no') + ' decimals, e.g. ' +
                  decimalOf(15235, d) + ' (got "' + input.value + '").');
}

// The form's request, or a message saying what is wrong with it.
function closeDownRequest() {
  const day = $('cd-day').value;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new Error('Pick the business day to close.');
  if (lastStatus && day > lastStatus.businessDay) {
    throw new Error('Business day ' + day + ' is in the future: only today or an earlier day ' +
                    'can be closed.');
  }
  const counted = {};
  for (const input of document.querySelectorAll('#cd-drawers input.count')) {
    const minor = countedIn(input, 'Counted cash for ' + input.dataset.device, store.decimals,
                            store.currency || 'the store\'s currency');
    if (minor !== null) counted[input.dataset.device] = String(minor);
  }
  const foreign = [];
  for (const input of document.querySelectorAll('#cd-foreign input.fx-count')) {
    const {device, currency} = input.dataset;
    const minor = countedIn(input, 'Counted ' + currency + ' for ' + device, decimalsOf(currency),
                            currency);
    if (minor !== null) foreign.push({deviceId: device, currency, counted: String(minor)});
  }
  return {businessDay: day, countedCash: counted, countedForeign: foreign,
          force: $('cd-force').checked};
}

function showCloseDown(c) {
  const sealed = new Set(c.sealedTills);
  for (const row of $('cd-drawers').tBodies[0].rows) {
    const d = row.dataset.device;
    const td = row.querySelector('.sealed');
    td.textContent = sealed.has(d) ? 'sealed' : (c.waitingFor.includes(d) ? 'waiting' : '-');
  }
  const p = $('cd-progress');
  if (c.closed) {
    const z = (c.z && c.z.z) ? 'The Z-report is made.' : '';
    p.replaceChildren();
    const done = document.createElement('p');
    done.className = 'ok';
    done.id = 'cd-done';
    done.textContent = 'Business day ' + c.businessDay + ' is closed. ' + z + ' ';
    const link = document.createElement('a');
    link.href = '#z';
    link.id = 'cd-z-link';
    link.textContent = 'Show the Z-report';
    link.addEventListener('click', () => { $('z-day').value = c.businessDay; });
    done.append(link);
    p.append(done);
  } else {
    p.textContent = 'Waiting for ' + c.waitingFor.join(', ') + ' to seal ' + c.businessDay +
        '. A till that stays missing can only be closed by forcing (see above).';
  }
}

async function startCloseDown(ev) {
  ev.preventDefault();
  clearTimeout(closeDownPoll);
  $('cd-error').textContent = '';
  let request;
  try {
    request = closeDownRequest();
  } catch (e) {
    $('cd-error').textContent = e.message;
    return;
  }
  try {
    const r = await ask({closedown: request});
    showCloseDown(r.closedown);
    if (!r.closedown.closed) pollCloseDown(request.businessDay);
  } catch (e) {
    $('cd-error').textContent = 'The fog refused: ' + e.message;
  }
}

// Asks again for the same day (without the counts, which the fog already
// keeps) until it is closed: the fog treats it as the same close-down.
function pollCloseDown(day) {
  closeDownPoll = setTimeout(async () => {
    try {
      const r = await ask({closedown: {businessDay: day}});
      showCloseDown(r.closedown);
      if (!r.closedown.closed) pollCloseDown(day);
    } catch (e) {
      $('cd-error').textContent = e.message;
    }
  }, 1000);
}

// Reports ---------------------------------------------------------------

// The Z, the X and the hourly chart are fetched each on its own: during the
// day there is no Z yet, and that must not hide the X or the chart.
async function prepareReports() {
  let today;
  try {
    const s = lastStatus || await status();
    today = s.businessDay;
  } catch (e) {
    $('z-error').textContent = e.message;
    return;
  }
  if (!$('z-day').value) $('z-day').value = today;
  await Promise.all([
    showZ().catch((e) => { $('z-error').textContent = e.message; }),
    post('/api/request?format=text', {report: {kind: 'x', businessDay: today}}, 'text')
        .then((x) => { $('x-text').textContent = x; })
        .catch((e) => { $('x-text').textContent = e.message; }),
    ask({report: {kind: 'hourly', businessDay: today}})
        .then((hourly) => drawHourly(hourly.report.hours))
        .catch((e) => { $('hourly-chart').textContent = e.message; }),
  ]);
}

async function showZ(ev) {
  if (ev) ev.preventDefault();
  $('z-error').textContent = '';
  const day = $('z-day').value;
  const box = $('z-drawers');
  box.replaceChildren();
  let r;
  try {
    r = await ask({report: {kind: 'z', businessDay: day}});
  } catch (e) {
    // The fog's 422 for an open day names storectl; a web user closes the
    // day on the Close-down page instead.
    if (!/not closed yet/.test(e.message)) throw e;
    r = {report: {zDecoded: []}};
  }
  const zs = r.report.zDecoded || [];
  if (!zs.length) {
    $('z-text').textContent = 'The business day ' + day +
        ' is not closed yet: close it on the Close-down page. The X-report below shows it so far.';
    return;
  }
  const table =
      headedTable('over-short', ['Z', 'Till', 'Expected cash', 'Counted', 'Over/short']);
  for (const z of zs) {
    for (const d of z.drawerCounts) {
      const row = table.tBodies[0].insertRow();
      row.dataset.device = d.deviceId;
      cell(row, z.zNumber);
      cell(row, d.deviceId);
      cell(row, money(d.expectedCash), 'num');
      cell(row, d.counted ? money(d.countedCash) : 'not counted', 'num');
      cell(row, overShortText(d.counted, d.overShort, money), 'num over-short');
    }
  }
  box.append(table, ...foreignSection(zs));
  $('z-text').textContent =
      await post('/api/request?format=text', {report: {kind: 'z', businessDay: day}}, 'text');
}

// A table `id` with a head row of `columns` and an empty body for the rows
// (table.insertRow() would add them to the head).
function headedTable(id, columns) {
  const t = document.createElement('table');
  t.id = id;
  const head = t.createTHead().insertRow();
  for (const c of columns) cell(head, c);
  t.createTBody();
  return t;
}

// The Zs' foreign currency: each currency's exchanges and foreign tenders
// (foreign amounts in its decimals, the home values, commission and margin
// in the store's), then each foreign drawer's count. Nothing without any.
function foreignSection(zs) {
  const fx = zs.flatMap((z) => ((z.totals || {}).fx || []).map((x) => [z, x]));
  const counts = zs.flatMap((z) => (z.foreignCounts || []).map((c) => [z, c]));
  if (!fx.length && !counts.length) return [];
  const h = document.createElement('h3');
  h.textContent = 'Foreign currency';
  const volumes = headedTable('fx-totals', ['Z', 'Currency', 'Bought', 'Paid (home)', 'Sold',
                                      'Taken (home)', 'Tendered', 'Worth (home)', 'Commission',
                                      'Margin']);
  for (const [z, x] of fx) {
    const row = volumes.tBodies[0].insertRow();
    row.dataset.currency = x.currency;
    const f = (minor, count) => foreignMoney(minor, x.currency) + ' (' + (count || 0) + ')';
    cell(row, z.zNumber);
    cell(row, x.currency);
    for (const [text, cls] of [[f(x.boughtForeign, x.boughtCount), 'bought'],
                               [money(x.boughtHome), ''],
                               [f(x.soldForeign, x.soldCount), 'sold'], [money(x.soldHome), ''],
                               [f(x.tenderedForeign, x.tenderedCount), 'tendered'],
                               [money(x.tenderedHome), ''], [money(x.commission), 'commission'],
                               [money(x.margin), 'margin']]) {
      cell(row, text, ('num ' + cls).trim());
    }
  }
  const drawers = headedTable('fx-counts', ['Z', 'Till', 'Currency', 'Expected', 'Counted',
                                      'Over/short']);
  for (const [z, c] of counts) {
    const row = drawers.tBodies[0].insertRow();
    row.dataset.device = c.deviceId;
    row.dataset.currency = c.currency;
    const fmt = (minor) => foreignMoney(minor, c.currency);
    cell(row, z.zNumber);
    cell(row, c.deviceId);
    cell(row, c.currency);
    cell(row, fmt(c.expectedCash), 'num');
    cell(row, c.counted ? fmt(c.countedCash) : 'not counted', 'num');
    cell(row, overShortText(c.counted, c.overShort, fmt), 'num over-short');
  }
  return [h, volumes, drawers];
}

// One bar per hour the fog lists (every local hour of the day, 23 to 25),
// labelled with its local hour.
function drawHourly(hours) {
  const svgNs = 'http://www.w3.org/2000/svg';
  const w = hours.length * 22 + 40, h = 160, base = 130;
  const svg = document.createElementNS(svgNs, 'svg');
  svg.setAttribute('width', w);
  svg.setAttribute('height', h);
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', 'Net sales per hour');
  const net = hours.map((x) => Math.max(0, Number(x.sales) - Number(x.refunds)));
  const max = Math.max(1, ...net);
  hours.forEach((x, i) => {
    const bh = Math.round((net[i] / max) * (base - 10));
    const rect = document.createElementNS(svgNs, 'rect');
    rect.setAttribute('class', 'bar');
    rect.setAttribute('x', 30 + i * 22);
    rect.setAttribute('y', base - bh);
    rect.setAttribute('width', 18);
    rect.setAttribute('height', bh);
    const title = document.createElementNS(svgNs, 'title');
    title.textContent = (x.label || '') + ' ' + money(net[i]);
    rect.append(title);
    svg.append(rect);
    const label = document.createElementNS(svgNs, 'text');
    label.setAttribute('x', 30 + i * 22);
    label.setAttribute('y', base + 14);
    label.textContent = (x.label || String(i)).slice(0, 2);
    svg.append(label);
  });
  const top = document.createElementNS(svgNs, 'text');
  top.setAttribute('x', 0);
  top.setAttribute('y', 10);
  top.textContent = money(max);
  svg.append(top);
  $('hourly-chart').replaceChildren(svg);
}

// Any report, of a day or a range -------------------------------------------

// Each kind's table: column titles, the cells of a row, which cells are
// amounts (summed into the total row) or counts (summed too).
const reportKinds = {
  x: {title: 'X-report (totals so far)'},
  z: {title: 'Z-reports'},
  hourly: {
    title: 'Sales per hour', rows: (r) => r.hours,
    columns: ['Hour', 'Receipts', 'Sales', 'Refunds', 'Net'],
    cells: (h) => [h.label, h.receipts, h.sales, h.refunds, Number(h.sales) - Number(h.refunds)],
    sums: [null, 'count', 'money', 'money', 'money'],
  },
  items: {
    title: 'Items by revenue', rows: (r) => r.items,
    columns: ['SKU', 'Name', 'Qty', 'Revenue', 'Refund qty', 'Refunds'],
    cells: (i) => [i.sku, i.name, i.qty, i.revenue, i.refundQty, i.refundAmount],
    sums: [null, null, 'count', 'money', 'count', 'money'],
  },
  departments: {
    title: 'Departments', rows: (r) => r.departments,
    columns: ['Department', 'Items', 'Qty', 'Lines', 'Gross', 'Refunds', 'Net', 'Tax'],
    cells: (d) => [d.department, d.items, d.qty, d.lines, d.gross, d.refunds, d.net, d.tax],
    sums: [null, 'count', 'count', 'count', 'money', 'money', 'money', 'money'],
  },
  cashiers: {
    title: 'Cashiers', rows: (r) => r.cashiers,
    columns: ['Cashier', 'Receipts', 'Sales', 'Refunds', 'Refunded', 'Voids', 'Voided',
              'No-sale'],
    cells: (c) => [c.cashier, c.receipts, c.sales, c.refundCount, c.refunds, c.voidCount, c.voids,
                   c.noSaleCount],
    sums: [null, 'count', 'money', 'count', 'money', 'count', 'money', 'count'],
  },
  tenders: {
    title: 'Tenders', rows: (r) => r.x.tenders,
    columns: ['Tender', 'Count', 'Sales', 'Refunds', 'Net'],
    cells: (t) => [t.type, t.count, t.sales, t.refunds, Number(t.sales) - Number(t.refunds)],
    sums: [null, 'count', 'money', 'money', 'money'],
  },
};
let reportKind = 'x';
let lastDays = null;  // {fromDay, toDay} or {period}

function reportRequest(days) {
  return {kind: reportKind, ...days};
}

async function prepareReport(kind) {
  reportKind = reportKinds[kind] ? kind : 'x';
  for (const a of document.querySelectorAll('#report-kinds a')) {
    a.classList.toggle('current', a.getAttribute('href') === '#report/' + reportKind);
  }
  $('report-title').textContent = reportKinds[reportKind].title;
  try {
    const s = await status();
    if (!$('r-from').value) $('r-from').value = s.businessDay;
    if (!$('r-to').value) $('r-to').value = s.businessDay;
  } catch (e) {
    $('r-error').textContent = e.message;
    return;
  }
  await showReport(lastDays || {fromDay: $('r-from').value, toDay: $('r-to').value});
}

async function showReport(days) {
  $('r-error').textContent = '';
  $('report-days').textContent = '';  // until the fog says which days it covers
  lastDays = days;
  const box = $('report-table');
  box.replaceChildren();
  $('report-text').textContent = '';
  const spec = reportKinds[reportKind];
  try {
    const r = (await ask({report: reportRequest(days)})).report;
    // A period resolves to days in the store's calendar: show which.
    $('r-from').value = r.fromDay;
    $('r-to').value = r.toDay;
    $('report-days').textContent = r.fromDay === r.toDay ? 'Business day ' + r.fromDay :
        'Business days ' + r.fromDay + ' to ' + r.toDay +
        (r.openDays && r.openDays.length ? ' (not closed: ' + r.openDays.join(', ') + ')' : '');
    if (spec.rows) {
      box.append(reportTable(spec, spec.rows(r) || []));
    } else {
      $('report-text').textContent =
          await post('/api/request?format=text', {report: reportRequest(days)}, 'text');
    }
  } catch (e) {
    $('report-days').textContent = '';
    // The fog's reason for an open day names storectl; here the day is
    // closed on the Close-down page.
    $('r-error').textContent = e.message.replace(/\(see storectl closedown, or report x\)/,
                                                 '(close it on the Close-down page)');
  }
}

function reportTable(spec, rows) {
  const table = document.createElement('table');
  table.className = 'report-table';
  const head = table.createTHead().insertRow();
  for (const h of spec.columns) {
    const th = document.createElement('th');
    th.textContent = h;
    head.append(th);
  }
  const body = table.createTBody();
  const totals = spec.sums.map(() => 0n);
  const show = (v, sum) => (sum === 'money' ? money(v) : String(v ?? ''));
  for (const x of rows) {
    const row = body.insertRow();
    spec.cells(x).forEach((v, i) => {
      const sum = spec.sums[i];
      if (sum) totals[i] += BigInt(v || 0);
      cell(row, show(v, sum), sum ? 'num' : '');
    });
  }
  const foot = table.createTFoot().insertRow();
  spec.sums.forEach((sum, i) => {
    cell(foot, i === 0 ? 'Total' : sum ? show(totals[i], sum) : '', sum ? 'num' : '');
  });
  return table;
}

// Stock and reorder suggestions ---------------------------------------------

// Thousandths of a unit (int64 as a string) as units, "-1.5".
const units = (milli) => String(Number(milli || 0) / 1000);

async function refreshStock(refresh) {
  $('stock-error').textContent = '';
  try {
    const request = {supplier: $('stock-supplier').value, all: $('stock-all').checked,
                     refresh: !!refresh};
    const r = (await ask({reorder: request})).reorder;
    const computed = Number(r.computedUs || 0);
    $('stock-computed').textContent = computed === 0 ?
        'No suggestions computed yet' + (r.refreshing ? ': computing now.' : '.') :
        'Computed ' + new Date(computed / 1000).toLocaleString(store.locale) + ' from sales up to ' +
        r.historyTo + ', service level ' + Math.round(Number(r.serviceLevel) * 1000) / 10 +
        '%, review every ' + r.reviewDays + ' days' + (r.refreshing ? '; recomputing now.' : '.') +
        (r.truncated ? ' Only the first 5,000 items: choose a supplier.' : '');
    showStockTables(r.items || []);
  } catch (e) {
    $('stock-error').textContent = e.message;
  }
}

// One table per supplier, its items by sku; a row opens the item's chart.
function showStockTables(items) {
  const bySupplier = new Map();
  for (const it of items) {
    const name = it.supplier || '(none)';
    if (!bySupplier.has(name)) bySupplier.set(name, []);
    bySupplier.get(name).push(it);
  }
  const select = $('stock-supplier');
  for (const name of bySupplier.keys()) {
    if (![...select.options].some((o) => o.value === name)) select.add(new Option(name, name));
  }
  const out = [];
  for (const [name, rows] of bySupplier) {
    const h = document.createElement('h3');
    const packs = rows.reduce((n, it) => n + Number(it.suggested || 0), 0);
    h.textContent = name + ': ' + rows.length + ' items, ' + packs + ' units to order';
    const table = document.createElement('table');
    table.className = 'report-table stock-table';
    const head = table.createTHead().insertRow();
    for (const t of ['SKU', 'Name', 'Demand', 'Method', 'On hand', 'On order', 'Lead time',
                     'Forecast', 'Order up to', 'Pack', 'Suggested']) {
      const th = document.createElement('th');
      th.textContent = t;
      head.append(th);
    }
    const body = table.createTBody();
    for (const it of rows) {
      const row = body.insertRow();
      row.tabIndex = 0;
      row.dataset.sku = it.sku;
      cell(row, it.sku);
      cell(row, it.name);
      cell(row, it.demandClass);
      cell(row, it.method);
      cell(row, units(it.onHandMilli), 'num' + (Number(it.onHandMilli) < 0 ? ' error' : ''));
      cell(row, units(it.onOrderMilli), 'num');
      cell(row, (it.leadTimeDays || 0) + ' d', 'num');
      cell(row, (Math.round(Number(it.forecastMean || 0) * 10) / 10).toString(), 'num');
      cell(row, String(it.orderUpTo || 0), 'num');
      cell(row, String(it.packSize || 1), 'num');
      cell(row, String(it.suggested || 0), 'num' + (Number(it.suggested) > 0 ? ' order' : ''));
      const open = () => drawStockChart(it);
      row.addEventListener('click', open);
      row.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') open(); });
    }
    const box = document.createElement('div');
    box.className = 'scroll';
    box.append(table);
    out.push(h, box);
  }
  if (out.length === 0) {
    const p = document.createElement('p');
    p.textContent = 'Nothing to order.';
    out.push(p);
  }
  $('stock-tables').replaceChildren(...out);
}

// The item's daily history (censored days hollow: out of stock, demand
// unknown), then its forecast: the mean as a line, the band up to the 90%
// quantile shaded, the median dashed.
function drawStockChart(it) {
  const svgNs = 'http://www.w3.org/2000/svg';
  const hist = (it.historyQty || []).map(Number);
  const censored = it.historyCensored || [];
  const mean = (it.forecastDailyMean || []).map(Number);
  const q50 = (it.forecastQ50 || []).map(Number);
  const q90 = (it.forecastQ90 || []).map(Number);
  const n = hist.length + mean.length;
  const step = Math.max(3, Math.min(12, Math.floor(900 / Math.max(1, n))));
  const w = 50 + n * step, h = 200, base = 170;
  const max = Math.max(1, ...hist, ...q90);
  const y = (v) => base - (v / max) * (base - 15);
  const x = (i) => 40 + i * step;
  const svg = document.createElementNS(svgNs, 'svg');
  svg.setAttribute('width', w);
  svg.setAttribute('height', h);
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', 'History and forecast of ' + it.sku);
  const add = (tag, attrs, text) => {
    const e = document.createElementNS(svgNs, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    svg.append(e);
    return e;
  };
  hist.forEach((v, i) => {
    const bar = add('rect', {class: censored[i] ? 'bar censored' : 'bar', x: x(i),
                             y: y(v), width: step - 1, height: base - y(v)});
    const t = document.createElementNS(svgNs, 'title');
    t.textContent = (censored[i] ? 'out of stock: ' : '') + v;
    bar.append(t);
  });
  const f0 = hist.length;
  if (mean.length > 0) {
    const band = q90.map((v, i) => x(f0 + i) + ',' + y(v)).join(' ') + ' ' +
        x(f0 + q90.length - 1) + ',' + base + ' ' + x(f0) + ',' + base;
    add('polygon', {class: 'band', points: band});
    add('polyline', {class: 'median', points: q50.map((v, i) => x(f0 + i) + ',' + y(v)).join(' ')});
    add('polyline', {class: 'mean', points: mean.map((v, i) => x(f0 + i) + ',' + y(v)).join(' ')});
    add('line', {class: 'today', x1: x(f0), x2: x(f0), y1: 10, y2: base});
  }
  add('text', {x: 0, y: 12}, String(Math.round(max)));
  add('text', {x: 40, y: base + 15}, it.historyFrom || '');
  add('text', {x: x(f0), y: base + 28}, 'forecast from ' + (it.forecastFrom || ''));
  const title = document.createElement('h3');
  title.textContent = it.sku + ' ' + (it.name || '') + ': ' + it.demandClass + ' demand, ' +
      it.method + '; on hand ' + units(it.onHandMilli) + ', suggested ' + (it.suggested || 0);
  $('stock-chart').replaceChildren(title, svg);
}

// Ledger ----------------------------------------------------------------

async function refreshLedger() {
  try {
    const s = await status();
    const l = s.ledger;
    const dl = $('ledger');
    dl.replaceChildren();
    const add = (k, v) => {
      const dt = document.createElement('dt');
      dt.textContent = k;
      const dd = document.createElement('dd');
      dd.textContent = v;
      dl.append(dt, dd);
    };
    const verified = Number(l.lastZNumber) > 0 && !l.lastError && Number(l.alerts) === 0;
    add('Link', l.enabled ? (l.connected ? 'connected to ' : 'not connected to ') + l.uri :
                           'not configured: close-downs wait in the outbox');
    add('Backlog', l.backlog + ' close-downs without a verified receipt');
    add('Last receipt', Number(l.lastZNumber) > 0 ?
        'Z ' + l.lastZNumber + ', leaf ' + l.lastLeafIndex + ' of ' + l.lastTreeSize + ', ' +
        new Date(Number(l.lastReceiptUs) / 1000).toLocaleString() : 'none yet');
    add('Verification', verified ? 'receipts and tree heads verified' :
        (l.lastError ? 'PROBLEM: ' + l.lastError : 'nothing verified yet'));
    add('Alerts', String(l.alerts));
    add('Ledger key', l.ledgerKeyFingerprint || 'not pinned yet');
  } catch (e) {
    $('ledger-error').textContent = e.message;
  }
}

// Start -----------------------------------------------------------------

async function login(ev) {
  ev.preventDefault();
  $('login-error').textContent = '';
  try {
    const s = await post('/api/login', {manager: $('login-manager').value,
                                       password: $('login-password').value});
    $('login-password').value = '';
    loggedIn(s);
  } catch (e) {
    $('login-error').textContent = e.message;
  }
}

function loggedIn(session) {
  csrf = session.csrfToken;
  useStoreTerms(session);
  $('who').textContent = session.manager;
  $('nav').hidden = false;
  route();
}

async function logout() {
  try {
    await post('/api/logout', {});
  } catch (e) {
    // Logged out either way.
  }
  showLogin();
}

window.addEventListener('DOMContentLoaded', async () => {
  $('login-form').addEventListener('submit', login);
  $('logout').addEventListener('click', logout);
  $('closedown-form').addEventListener('submit', startCloseDown);
  $('cd-day').addEventListener('change', prepareCloseDown);
  $('z-form').addEventListener('submit', (ev) => showZ(ev).catch((e) => {
    $('z-error').textContent = e.message;
  }));
  $('z-print').addEventListener('click', () => window.print());
  $('nav-toggle').addEventListener('click', () => document.body.classList.toggle('nav-open'));
  $('report-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    showReport({fromDay: $('r-from').value, toDay: $('r-to').value});
  });
  $('r-week').addEventListener('click', () => showReport({period: 'week_to_date'}));
  $('r-month').addEventListener('click', () => showReport({period: 'month_to_date'}));
  $('r-csv').addEventListener('click', () => {
    $('r-error').textContent = '';
    download('/api/request?format=csv', {report: reportRequest(lastDays)})
        .catch((e) => { $('r-error').textContent = e.message; });
  });
  $('r-print').addEventListener('click', () => window.print());
  $('stock-supplier').addEventListener('change', () => refreshStock());
  $('stock-all').addEventListener('change', () => refreshStock());
  $('stock-refresh').addEventListener('click', () => refreshStock(true));
  $('stock-print').addEventListener('click', () => window.print());
  window.addEventListener('hashchange', route);
  const r = await fetch('/api/session', {credentials: 'same-origin'});
  if (r.ok) {
    loggedIn(await r.json());
  } else {
    showLogin();
  }
});
