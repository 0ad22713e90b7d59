// The manager console's page logic: plain JavaScript, no libraries.
//
// Every action is POST /api/request with a FogRequest as JSON (the same
// requests storectl sends on fog/req) and the CSRF token of the session in
// X-CSRF-Token. Errors come back as a FogResponse with ok false and error
// set; they are shown as they are. Money is in minor units (int64 arrives as
// a string in protobuf JSON), shown with two decimals.
'use strict';

const $ = (id) => document.getElementById(id);
let csrf = '';
let tillsTimer = null;
let lastStatus = null;

function money(minor) {
  const n = Number(minor || 0);
  const sign = n < 0 ? '-' : '';
  const a = Math.abs(n);
  return sign + Math.floor(a / 100) + '.' + String(a % 100).padStart(2, '0');
}

// "152.35" -> 15235; null when it is not an amount.
function parseMoney(text) {
  const m = /^\s*(-?)(\d+)(?:[.,](\d{1,2}))?\s*$/.exec(text);
  if (!m) return null;
  const minor = Number(m[2]) * 100 + Number((m[3] || '0').padEnd(2, '0'));
  return m[1] ? -minor : minor;
}

function age(us, nowUs) {
  const n = Number(us || 0);
  if (!n) return 'never';
  const s = Math.max(0, Math.round((nowUs - n) / 1e6));
  if (s < 120) return s + ' s ago';
  if (s < 7200) return Math.round(s / 60) + ' min ago';
  return Math.round(s / 3600) + ' h ago';
}

function dayOf(us) {
  return new Date(Number(us) / 1000).toISOString().slice(0, 10);
}

function cell(row, text, cls) {
  const td = row.insertCell();
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
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

const views = ['login', 'tills', 'closedown', 'z', 'ledger'];

function show(name) {
  for (const v of views) $(v + '-view').hidden = v !== name;
  clearInterval(tillsTimer);
  tillsTimer = null;
  if (name === 'tills') {
    refreshTills();
    tillsTimer = setInterval(refreshTills, 2000);
  } else if (name === 'closedown') {
    prepareCloseDown();
  } else if (name === 'z') {
    prepareReports();
  } else if (name === 'ledger') {
    refreshLedger();
  }
}

function route() {
  if (!csrf) return showLogin();
  const name = (location.hash || '#tills').slice(1);
  show(views.includes(name) && name !== 'login' ? name : 'tills');
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
    if (!$('cd-day').value) $('cd-day').value = dayOf(s.timeUs);
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
      input.placeholder = '0.00';
      input.dataset.device = t.deviceId;
      row.insertCell().append(input);
    }
  } catch (e) {
    $('cd-error').textContent = e.message;
  }
}

// The form's request, or a message saying what is wrong with it.
function closeDownRequest() {
  const day = $('cd-day').value;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new Error('Pick the business day to close.');
  if (lastStatus && day > dayOf(lastStatus.timeUs)) {
    throw new Error('Business day ' + day + ' is in the future: only today or an earlier day ' +
                    'can be closed.');
  }
  const counted = {};
  for (const input of document.querySelectorAll('#cd-drawers input.count')) {
    input.classList.remove('bad');
    if (input.value.trim() === '') continue;
    const minor = parseMoney(input.value);
    if (minor === null || minor < 0) {
      input.classList.add('bad');
      throw new Error('Counted cash for ' + input.dataset.device + ' must be an amount of ' +
                      '0.00 or more, e.g. 152.35 (got "' + input.value + '").');
    }
    counted[input.dataset.device] = String(minor);
  }
  return {businessDay: day, countedCash: counted, force: $('cd-force').checked};
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
    today = dayOf(s.timeUs);
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
  const table = document.createElement('table');
  table.id = 'over-short';
  const head = table.createTHead().insertRow();
  for (const h of ['Z', 'Till', 'Expected cash', 'Counted', 'Over/short']) cell(head, h);
  for (const z of zs) {
    for (const d of z.drawerCounts) {
      const row = table.insertRow();
      row.dataset.device = d.deviceId;
      cell(row, z.zNumber);
      cell(row, d.deviceId);
      cell(row, money(d.expectedCash), 'num');
      cell(row, d.counted ? money(d.countedCash) : 'not counted', 'num');
      const os = Number(d.overShort);
      cell(row, !d.counted ? 'unknown' : os === 0 ? '0.00' : (os > 0 ? 'over ' : 'short ') +
           money(Math.abs(os)), 'num over-short');
    }
  }
  box.append(table);
  $('z-text').textContent =
      await post('/api/request?format=text', {report: {kind: 'z', businessDay: day}}, 'text');
}

function drawHourly(hours) {
  const svgNs = 'http://www.w3.org/2000/svg';
  const w = 24 * 22 + 40, h = 160, base = 130;
  const svg = document.createElementNS(svgNs, 'svg');
  svg.setAttribute('width', w);
  svg.setAttribute('height', h);
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', 'Net sales per hour');
  const byHour = new Map(hours.map((x) => [x.hour || 0, Number(x.sales) - Number(x.refunds)]));
  const max = Math.max(1, ...byHour.values());
  for (let hr = 0; hr < 24; ++hr) {
    const v = Math.max(0, byHour.get(hr) || 0);
    const bh = Math.round((v / max) * (base - 10));
    const rect = document.createElementNS(svgNs, 'rect');
    rect.setAttribute('class', 'bar');
    rect.setAttribute('x', 30 + hr * 22);
    rect.setAttribute('y', base - bh);
    rect.setAttribute('width', 18);
    rect.setAttribute('height', bh);
    const title = document.createElementNS(svgNs, 'title');
    title.textContent = hr + ':00 ' + money(v);
    rect.append(title);
    svg.append(rect);
    const label = document.createElementNS(svgNs, 'text');
    label.setAttribute('x', 30 + hr * 22);
    label.setAttribute('y', base + 14);
    label.textContent = String(hr);
    svg.append(label);
  }
  const top = document.createElementNS(svgNs, 'text');
  top.setAttribute('x', 0);
  top.setAttribute('y', 10);
  top.textContent = money(max);
  svg.append(top);
  $('hourly-chart').replaceChildren(svg);
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
  window.addEventListener('hashchange', route);
  const r = await fetch('/api/session', {credentials: 'same-origin'});
  if (r.ok) {
    loggedIn(await r.json());
  } else {
    showLogin();
  }
});
