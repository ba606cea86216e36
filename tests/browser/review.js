#!/usr/bin/env node
/*
 * The review queue page (proposals.html) in a real browser (Debian's
 * Chromium through puppeteer-core).  Run by
 * tests/integration/t0338-review-page.sh:
 *
 *   node tests/browser/review.js CONFIG.json
 *
 * CONFIG: { "base": "http://127.0.0.1:PORT/", "token": "<approve token>",
 *   "good": {"id": 1, "value": "..."}, "bad": {"id": 2, "value": "..."},
 *   "reason": "why bad is rejected", "readonly": "http://127.0.0.1:P2/",
 *   "shots": "build/screenshots" }
 *
 * With the daemon (base): the page lists both proposals with their
 * evidence and checks; the reviewer pastes the token, approves good and
 * rejects bad with a reason; each answer is the API's 200.  The token is
 * in sessionStorage only.  On readonly (a plain HTTP server of the same
 * tree) the page lists the queue with no buttons and says it is
 * read-only.  Prints "ok - sentence" / "not ok - sentence: why" lines.
 */
'use strict';
const fs = require('fs');
const { state, check, launch, open: openPage, ready, axe } = require('./harness');

const cfg = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));

/* A page of the queue, once its data is shown. */
async function open(browser, url) {
  const r = await openPage(browser, url);
  await ready(r.page);
  return r;
}

/* What the page shows of proposal id. */
function shown(page, id) {
  return page.evaluate((id) => {
    const a = document.getElementById(String(id));
    if (!a) return null;
    return {
      text: a.textContent,
      checks: Array.from(a.querySelectorAll('[data-check]')).map((l) => l.getAttribute('data-check')),
      buttons: Array.from(a.querySelectorAll('button')).map((b) => b.textContent),
    };
  }, id);
}

/* Clicks button cls of proposal id and waits for the page's answer. */
async function decide(page, id, cls) {
  await page.$eval(`[id="${id}"] .answer`, (e) => e.removeAttribute('data-status'));
  await page.click(`[id="${id}"] button.${cls}`);
  return answer(page, id);
}

async function answer(page, id) {
  const sel = `[id="${id}"] .answer[data-status]`;
  await page.waitForFunction((s) => {
    const e = document.querySelector(s);
    return e && e.getAttribute('data-status') !== '' && !/Sending/.test(e.textContent);
  }, { timeout: 20000 }, sel).catch(() => null); /* the state is reported below */
  return page.$eval(`[id="${id}"] .answer`, (e) => ({ status: e.getAttribute('data-status'),
    text: e.textContent, disabled: Array.from(e.parentNode.querySelectorAll('button')).map((b) => b.disabled) }));
}

async function live(browser) {
  const { page, problems } = await open(browser, cfg.base + 'proposals.html#' + cfg.good.id);
  const count = await page.$eval('#status', (e) => e.getAttribute('data-count'));
  check(count === '2', 'the page lists the two pending proposals', `data-count ${count}`);
  for (const p of [cfg.good, cfg.bad]) {
    const s = await shown(page, p.id);
    check(s && s.text.includes(p.value), `proposal ${p.id} is at #${p.id} with its value`, JSON.stringify(s));
    const want = ['gates', 'covered-by', 'ham matches', 'backtracking'];
    check(s && want.every((c) => s.checks.includes(c)),
      `proposal ${p.id} shows its checks (gates, covered-by, ham, backtracking)`, s && s.checks.join(','));
    check(s && ['Approve', 'Reject', 'Convert'].every((b) => s.buttons.includes(b)),
      `proposal ${p.id} has approve, reject and convert buttons on the daemon`, s && s.buttons.join(','));
  }
  const g = await shown(page, cfg.good.id);
  check(g && g.text.includes('tripleee') && g.text.includes('spam wave') &&
    g.text.includes('tp 4, fp 1, naa 0') && g.text.includes('https://stackoverflow.com/q/1'),
  'a proposal shows requester, reason, evidence counts and links', g && g.text.slice(0, 400));

  /* A decision without a token asks for one and sends nothing. */
  await page.click(`[id="${cfg.good.id}"] button.approve`);
  let a = await page.$eval(`[id="${cfg.good.id}"] .answer`, (e) => e.textContent);
  check(/token/.test(a), 'approving with no token asks for one', a);

  await page.type('#token', cfg.token);
  await page.click('#token-form button[type="submit"]');
  const where = await page.evaluate((t) => ({
    session: sessionStorage.getItem('helios-review-token') === t,
    local: Object.keys(localStorage).some((k) => (localStorage.getItem(k) || '').includes(t)),
    url: location.href.includes(t),
    html: document.documentElement.outerHTML.includes(t),
    field: document.getElementById('token').value.includes(t),
  }), cfg.token);
  check(where.session, 'the pasted token is kept in sessionStorage', JSON.stringify(where));
  check(!where.local && !where.url && !where.html && !where.field,
    'the token is in neither localStorage, the URL nor the page', JSON.stringify(where));

  const v = await axe(page);
  check(v.length === 0, 'axe: no serious or critical violation on the review page', v.join('; '));

  /* Reject needs a reason: none sends nothing. */
  await page.click(`[id="${cfg.bad.id}"] button.reject`);
  a = await page.$eval(`[id="${cfg.bad.id}"] .answer`, (e) => e.textContent);
  check(/reason/.test(a), 'rejecting without a reason is refused by the page', a);
  await page.type(`[id="${cfg.bad.id}"] input.note`, cfg.reason);
  let r = await decide(page, cfg.bad.id, 'reject');
  check(r.status === '200' && /rejected/.test(r.text), 'the page rejects a proposal and shows the API answer',
    JSON.stringify(r));

  r = await decide(page, cfg.good.id, 'approve');
  check(r.status === '200' && /approved/.test(r.text), 'the page approves a proposal and shows the API answer',
    JSON.stringify(r));

  const after = await page.evaluate((t) => location.href.includes(t) ||
    Object.keys(localStorage).length > 0, cfg.token);
  check(!after, 'after the decisions the URL and localStorage hold no token');
  check(problems.length === 0, 'the review page has no console error and no failed request',
    problems.slice(0, 5).join('; '));
  if (cfg.shots) {
    fs.mkdirSync(cfg.shots, { recursive: true });
    await page.screenshot({ path: `${cfg.shots}/review-proposals.png`, fullPage: true });
  }
  await page.close();
}

async function readonly(browser) {
  const { page, problems } = await open(browser, cfg.readonly + 'proposals.html');
  const s = await page.evaluate(() => ({
    mode: document.getElementById('mode').getAttribute('data-mode'),
    text: document.getElementById('mode').textContent,
    buttons: document.querySelectorAll('#queue button').length,
    form: document.getElementById('token-form').hidden,
    count: document.getElementById('status').getAttribute('data-count'),
  }));
  check(s.mode === 'read-only' && /read-only/.test(s.text) && s.buttons === 0 && s.form,
    'on a plain mirror the page is read-only, says so and has no buttons', JSON.stringify(s));
  check(problems.length === 0, 'the read-only page has no console error and no failed request',
    problems.slice(0, 5).join('; '));
  await page.close();
}

(async () => {
  const browser = await launch();
  try {
    if (cfg.readonly) await readonly(browser);
    await live(browser);
  } catch (e) {
    check(false, 'the browser checks ran to the end', e.stack);
  } finally {
    await browser.close();
  }
  process.exit(state.failed ? 1 : 0);
})();
