// Foreign cash on the manager console in a real headless Chromium, run by
// tests/console_e2e_test.cc against a real fog whose store has a rate sheet
// and two tills that took foreign cash:
//   node console-fx.mjs URL MANAGER PASSWORD ARTIFACT_DIR BRIEF_JSON
// BRIEF_JSON: {day, drawers: [{device, currency, expected}], counts: [{device,
// currency, text, overShort}], fx: [{currency, commission, margin}]}, amounts
// as plain decimals in each currency's own decimals (home minor units for
// commission and margin).
// 1. log in; 2. the Close-down page lists one input per foreign drawer with
// its expected amount; 3. a count with too many decimals is refused with a
// one-line reason and the day stays open; 4. the counts close the day;
// 5. the Z view's Foreign currency section shows each drawer's expected,
// counted and over/short, and each currency's commission and margin.
// A screenshot of each step goes to ARTIFACT_DIR. Exit code 0 only if every
// step passed; the reason otherwise.
import {chromium} from 'playwright-core';
import {mkdirSync} from 'node:fs';

const [url, manager, password, artifacts, briefJson] = process.argv.slice(2);
const brief = JSON.parse(briefJson);
mkdirSync(artifacts, {recursive: true});
const step = (text) => console.log('step: ' + text);
const shot = (page, name) => page.screenshot({path: `${artifacts}/${name}.png`, fullPage: true});
const fail = (message) => { throw new Error(message); };
// The page's amounts in en-GB: "1,234.50 USD", "€1.23" -> without grouping.
const plain = (text) => text.replace(/,/g, '');
const cents = (text) => Math.round(Number(plain(text).replace(/€/, '')) * 100);
const row = (table, device, currency) =>
  `#${table} tr[data-device="${device}"][data-currency="${currency}"]`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox'],  // as root (CI) Chromium's sandbox cannot start
});
try {
  const page = await browser.newPage({viewport: {width: 1100, height: 800}});
  const consoleErrors = [];
  page.on('pageerror', (e) => consoleErrors.push(e.message));

  step('log in');
  await page.goto(url + '/#closedown');
  await page.fill('#login-manager', manager);
  await page.fill('#login-password', password);
  await page.click('#login-submit');
  await page.locator('#closedown-view').waitFor();

  step('one input per foreign drawer, with its expected amount');
  await page.fill('#cd-day', brief.day);
  await page.waitForFunction((n) => document.querySelectorAll('#cd-foreign tbody tr').length === n,
                             brief.drawers.length, {timeout: 30000});
  for (const d of brief.drawers) {
    const cells = await page.locator(row('cd-foreign', d.device, d.currency) + ' td')
        .allTextContents();
    if (cells[0] !== d.device || cells[1] !== d.currency ||
        plain(cells[2]) !== d.expected + ' ' + d.currency) {
      fail(`${d.device} ${d.currency}: row ${JSON.stringify(cells)}, want expected ` +
           d.expected + ' ' + d.currency);
    }
  }

  step('3 decimals for USD are refused with a one-line reason, and nothing closes');
  const usd = brief.counts.find((c) => c.currency === 'USD');
  const usdInput = row('cd-foreign', usd.device, 'USD') + ' input';
  await page.fill(usdInput, '1.005');
  await page.click('#cd-start');
  const reason = 'Counted USD for ' + usd.device +
      ' must be an amount of 0.00 or more in USD with at most 2 decimals, e.g. 152.35 ' +
      '(got "1.005").';
  await page.locator('#cd-error', {hasText: 'Counted USD'}).waitFor();
  const said = await page.locator('#cd-error').textContent();
  if (said !== reason) fail(`refusal reads "${said}", want "${reason}"`);
  if (!(await page.locator(usdInput).getAttribute('class')).includes('bad')) {
    fail('the refused input is not marked');
  }
  await page.waitForTimeout(1500);
  if (await page.locator('#cd-done').count() !== 0) fail('a refused count closed the day');
  const open = await page.evaluate((day) => ask({report: {kind: 'z', businessDay: day}})
      .then(() => 'closed', (e) => e.message), brief.day);
  if (!/not closed yet/.test(open)) fail('after the refusal the fog says: ' + open);
  await shot(page, '1-refused');

  step('the counts close the day');
  for (const c of brief.counts) {
    await page.fill(row('cd-foreign', c.device, c.currency) + ' input', c.text);
  }
  await page.click('#cd-start');
  await page.locator('#cd-done').waitFor({timeout: 60000});
  if (await page.locator('#cd-error').textContent() !== '') {
    fail('error after the close-down: ' + await page.locator('#cd-error').textContent());
  }
  await shot(page, '2-closedown');

  step('the Z view shows the foreign counts and each currency\'s figures');
  await page.click('#cd-z-link');
  await page.locator('#fx-counts tr[data-device]').first().waitFor();
  const shown = {};
  for (const d of brief.drawers) {
    const cells = await page.locator(row('fx-counts', d.device, d.currency) + ' td')
        .allTextContents();
    shown[d.device + ' ' + d.currency] = cells;
    const [, device, currency, expected, counted, overShort] = cells;
    if (device !== d.device || currency !== d.currency ||
        plain(expected) !== d.expected + ' ' + d.currency) {
      fail(`Z row ${JSON.stringify(cells)}, want ${d.device} ${d.currency} expected ` +
           d.expected);
    }
    const c = brief.counts.find((x) => x.device === d.device && x.currency === d.currency);
    if (c) {
      if (plain(counted) !== c.text + ' ' + d.currency) fail(`Z counted ${counted}, want ${c.text}`);
      if (plain(overShort) !== c.overShort + ' ' + d.currency) {
        fail(`Z over/short ${overShort}, want ${c.overShort} ${d.currency}`);
      }
    } else if (counted !== 'not counted' || overShort !== 'unknown') {
      fail(`${d.device} ${d.currency} was not counted: ${JSON.stringify(cells)}`);
    }
  }
  console.log('foreign counts: ' + JSON.stringify(shown));
  const heads = await page.locator('#fx-totals thead td').allTextContents();
  if (heads.join() !== 'Z,Currency,Bought,Paid (home),Sold,Taken (home),Tendered,Worth (home),' +
      'Commission,Margin') {
    fail('fx columns: ' + heads);
  }
  for (const f of brief.fx) {
    const sel = `#fx-totals tr[data-currency="${f.currency}"]`;
    const commission = await page.locator(sel + ' td.commission').textContent();
    const margin = await page.locator(sel + ' td.margin').textContent();
    if (cents(commission) !== f.commission || cents(margin) !== f.margin) {
      fail(`${f.currency}: commission ${commission}, margin ${margin}; want ${f.commission} ` +
           `and ${f.margin} cents`);
    }
  }
  if (await page.locator('#fx-totals tr[data-currency]').count() !== brief.fx.length) {
    fail('the Z lists other currencies than the X: ' + brief.fx.map((f) => f.currency));
  }
  await page.locator('#z-text', {hasText: 'FOREIGN CURRENCY'}).waitFor();
  await shot(page, '3-z-report');

  if (consoleErrors.length) fail('script errors on the page: ' + consoleErrors.join('; '));
  console.log('e2e: all steps passed');
} finally {
  await browser.close();
}
