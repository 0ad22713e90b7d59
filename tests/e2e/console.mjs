// The manager console in a real headless Chromium (playwright-core driving
// Debian's /usr/bin/chromium), run by tests/console_e2e_test.cc against a
// real fog with three pos-sim tills:
//   node console.mjs URL MANAGER PASSWORD ARTIFACT_DIR CONTROL_DIR
// 1. log in; 2. see the three tills online; 3. run a close-down with counted
// cash (after the page refused a negative count); 4. read the over/short on
// the Z-report page, amounts in the store's currency (en-GB, EUR: "€100.00");
// 5. the department report week to date, and its CSV download; 6. every page
// at 375 px wide: no horizontal page scroll, the nav folded behind Menu,
// wide reports scrolling inside their box; the stock page's suggestions by
// supplier and an item's chart (the test imported pos-sim's catalog, half
// of it from one supplier); 7. ask the test
// (CONTROL_DIR/kill-till-3) to kill till-3's simulator and see it go offline.
// A screenshot of each page goes to ARTIFACT_DIR. Exit code 0 only if every
// step passed; the reason otherwise.
import {chromium} from 'playwright-core';
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs';

const [url, manager, password, artifacts, control] = process.argv.slice(2);
mkdirSync(artifacts, {recursive: true});
const step = (text) => console.log('step: ' + text);
const shot = (page, name) => page.screenshot({path: `${artifacts}/${name}.png`, fullPage: true});

function fail(message) {
  throw new Error(message);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  // As root (CI) Chromium's sandbox cannot start; the page is our own.
  args: ['--no-sandbox'],
});
try {
  const page = await browser.newPage({viewport: {width: 1100, height: 800}});
  const consoleErrors = [];
  page.on('pageerror', (e) => consoleErrors.push(e.message));

  step('log in');
  await page.goto(url + '/');
  await page.locator('#login-view').waitFor();
  await shot(page, '0-login');
  await page.fill('#login-manager', manager);
  await page.fill('#login-password', 'wrong-' + password);
  await page.click('#login-submit');
  await page.locator('#login-error', {hasText: 'wrong manager name or password'}).waitFor();
  await page.fill('#login-password', password);
  await page.click('#login-submit');
  await page.locator('#tills-view').waitFor();

  step('three tills online');
  await page.waitForFunction(
      () => document.querySelectorAll('#tills-table td.connection.online').length === 3,
      null, {timeout: 30000});
  await shot(page, '1-tills');

  step('reports page before the close-down: X-report and hourly chart, no Z yet');
  await page.click('a[href="#z"]');
  await page.locator('#x-text', {hasText: 'X-REPORT'}).waitFor();
  await page.locator('#hourly-chart svg rect.bar:not([height="0"])').first().waitFor();
  await page.locator('#z-text', {hasText: 'is not closed yet'}).waitFor();
  if (await page.locator('#z-error').textContent() !== '') {
    throw new Error('Reports page shows an error before the close-down: ' +
                    await page.locator('#z-error').textContent());
  }
  if ((await page.locator('#z-view').textContent()).includes('storectl')) {
    throw new Error('the Reports page points a web user at storectl');
  }
  await shot(page, '1b-reports-before-closedown');

  step('close-down: a negative count is refused on the page');
  await page.click('a[href="#closedown"]');
  await page.locator('#cd-drawers tbody tr').nth(2).waitFor();
  await page.fill('#cd-drawers input[data-device="till-1"]', '-5');
  await page.click('#cd-start');
  await page.locator('#cd-error', {hasText: 'must be an amount of 0.00 or more'}).waitFor();
  await shot(page, '2-closedown-bad-input');

  step('close-down with counted cash');
  await page.fill('#cd-drawers input[data-device="till-1"]', '100.00');
  await page.fill('#cd-drawers input[data-device="till-2"]', '0');
  await page.click('#cd-start');
  await page.locator('#cd-done').waitFor({timeout: 30000});
  const sealed = await page.locator('#cd-drawers td.sealed').allTextContents();
  if (sealed.join() !== 'sealed,sealed,sealed') fail('not every till sealed: ' + sealed);
  await shot(page, '3-closedown');

  step('over/short on the Z-report page');
  await page.click('#cd-z-link');
  await page.locator('#over-short tr[data-device="till-1"]').waitFor();
  await page.locator('#z-text', {hasText: 'Z-REPORT'}).waitFor();
  // Hours without sales draw zero-height (hidden) bars: wait for a drawn one.
  await page.locator('#hourly-chart svg rect.bar:not([height="0"])').first().waitFor();
  const rows = {};
  for (const d of ['till-1', 'till-2', 'till-3']) {
    rows[d] = await page.locator(`#over-short tr[data-device="${d}"] td`).allTextContents();
  }
  // "€1,234.56", "short €1.25" -> minor units.
  const cents = (t) => Math.round(Number(t.replace(/^(over|short) /, '').replace(/[€,]/g, '')) * 100);
  const [, , expected1, counted1, overShort1] = rows['till-1'];
  if (counted1 !== '€100.00') fail('till-1 counted ' + counted1 + ', want €100.00');
  const want = 10000 - cents(expected1);
  const got = overShort1.startsWith('short') ? -cents(overShort1) : cents(overShort1);
  if (got !== want) fail(`till-1 over/short ${overShort1}, want ${want / 100}`);
  if (!rows['till-2'][4].startsWith('short') && rows['till-2'][2] !== '€0.00') {
    fail('till-2 counted 0 but is not short: ' + rows['till-2']);
  }
  if (rows['till-3'][4] !== 'unknown') fail('till-3 was not counted: ' + rows['till-3']);
  console.log('over/short: ' + JSON.stringify(rows));
  await shot(page, '4-z-report');

  step('departments, week to date, and its CSV download');
  await page.click('a[href="#report/departments"]');
  await page.locator('#report-table table tbody tr').first().waitFor();
  const heads = await page.locator('#report-table th').allTextContents();
  if (heads.join() !== 'Department,Items,Qty,Lines,Gross,Refunds,Net,Tax') {
    fail('department columns: ' + heads);
  }
  await page.click('#r-week');
  await page.locator('#report-days', {hasText: 'Business day'}).waitFor();
  const from = await page.inputValue('#r-from');
  const to = await page.inputValue('#r-to');
  const today = await page.evaluate(() => lastStatus.businessDay);
  if (to !== today) fail(`week to date ends ${to}, the store's business day is ${today}`);
  if (new Date(from + 'T00:00:00Z').getUTCDay() !== 1) fail(`week to date starts ${from}: no Monday`);
  const gross = await page.locator('#report-table tfoot td').nth(4).textContent();
  if (!/^€\d{1,3}(,\d{3})*\.\d{2}$/.test(gross)) fail('gross total not in EUR, en-GB: ' + gross);
  const [file] = await Promise.all([page.waitForEvent('download'), page.click('#r-csv')]);
  const name = file.suggestedFilename();
  if (!/-departments-\d{4}-\d{2}-\d{2}(_\d{4}-\d{2}-\d{2})?\.csv$/.test(name)) {
    fail('CSV file name ' + name);
  }
  const csv = readFileSync(await file.path(), 'utf8').split('\n');
  if (csv[0] !== 'department,items,qty,lines,gross_EUR,refund_qty,refunds_EUR,net_EUR,tax_EUR') {
    fail('CSV header ' + csv[0]);
  }
  // The file's gross total is the page's: "12.34" there, "€12.34" here.
  const fileGross = csv.slice(1).filter((l) => l).reduce((a, l) => a + cents(l.split(',')[4]), 0);
  if (fileGross !== cents(gross)) fail(`CSV gross ${fileGross} cents, page ${gross}`);
  await shot(page, '6b-departments');

  step('stock page: suggestions by supplier, and an item\'s history and forecast chart');
  await page.click('a[href="#stock"]');
  await page.check('#stock-all');
  // The close-down started a reorder run; ask until it has covered the catalog.
  await page.waitForFunction(async () => {
    document.getElementById('stock-refresh').click();
    await new Promise((r) => setTimeout(r, 500));
    const heads = [...document.querySelectorAll('#stock-tables h3')].map((h) => h.textContent);
    return heads.some((t) => t.startsWith('Fresh Farms: ')) &&
        heads.some((t) => t.startsWith('(none): '));
  }, null, {timeout: 60000, polling: 1500});
  // Each supplier's heading counts its rows.
  const suppliers = await page.locator('#stock-tables h3').allTextContents();
  const listed = suppliers.reduce((n, t) => n + Number(/: (\d+) items/.exec(t)[1]), 0);
  const rowCount = await page.locator('#stock-tables table.stock-table tbody tr').count();
  if (listed !== rowCount || rowCount < 2) {
    fail(`stock tables: ${suppliers.join(' | ')} for ${rowCount} rows`);
  }
  const stockHeads = await page.locator('#stock-tables table.stock-table').first()
      .locator('th').allTextContents();
  if (stockHeads.join() !== 'SKU,Name,Demand,Method,On hand,On order,Lead time,Forecast,' +
      'Order up to,Pack,Suggested') {
    fail('stock columns: ' + stockHeads);
  }
  // Sold items are below zero on hand (nothing was received): flagged.
  if (await page.locator('#stock-tables td.num.error').count() === 0) {
    fail('no negative stock flagged after sales without deliveries');
  }
  await page.locator('#stock-tables table.stock-table tbody tr').first().click();
  // Today's sales are not history yet (it ends yesterday): the bars may be
  // 0 high, but there is one per history day, and the forecast's line.
  await page.locator('#stock-chart svg polyline.mean').waitFor({state: 'attached'});
  const bars = await page.locator('#stock-chart svg rect.bar').count();
  if (bars < 28) fail(`the stock chart has ${bars} history bars`);
  await shot(page, '8-stock');

  step('a phone, 375 px wide: no page scroll sideways, nav folded, reports scroll in place');
  await page.setViewportSize({width: 375, height: 740});
  const sideways = () => page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  for (const view of ['#tills', '#closedown', '#z', '#report/departments', '#report/x',
                      '#report/hourly', '#stock', '#ledger']) {
    await page.evaluate((h) => { location.hash = h; }, view);
    await page.waitForTimeout(700);
    const over = await sideways();
    if (over > 0) fail(`${view} scrolls sideways by ${over} px at 375 px`);
  }
  if (await page.locator('nav#nav a[href="#tills"]').isVisible()) fail('the nav is not folded');
  await page.click('#nav-toggle');
  await page.locator('nav#nav a[href="#tills"]').waitFor({state: 'visible'});
  await page.click('nav#nav a[href="#report/x"]');
  await page.locator('#report-text', {hasText: 'X-REPORT'}).waitFor();
  if (await page.locator('nav#nav a[href="#tills"]').isVisible()) fail('the nav stays open');
  const inPlace = await page.evaluate(() => {
    const pre = document.getElementById('report-text');
    return pre.scrollWidth > pre.clientWidth && pre.clientWidth <= 375;
  });
  if (!inPlace) fail('the 80-column X-report does not scroll inside its box');
  if (await sideways() > 0) fail('the X-report makes the page scroll sideways');
  await shot(page, '7-phone');
  await page.setViewportSize({width: 1100, height: 800});

  step('ledger page');
  await page.click('a[href="#ledger"]');
  await page.locator('#ledger dt', {hasText: 'Backlog'}).waitFor();
  await shot(page, '5-ledger');

  step('till-3 goes offline when its simulator is killed');
  await page.click('a[href="#tills"]');
  await page.locator('#tills-table td.connection.online').nth(2).waitFor();
  writeFileSync(control + '/kill-till-3', '');
  await page.locator('#tills-table tr[data-device="till-3"] td.connection.offline')
      .waitFor({timeout: 30000});
  const online = await page.locator('#tills-table td.connection.online').count();
  if (online !== 2) fail(`${online} tills online after killing till-3, want 2`);
  await shot(page, '6-till-offline');

  if (consoleErrors.length) fail('script errors on the page: ' + consoleErrors.join('; '));
  console.log('e2e: all steps passed');
} finally {
  await browser.close();
}
