/*
 * harness: what the browser tests share: Debian's Chromium through
 * puppeteer-core, TAP-style check lines with a failure count, a page
 * that records console errors and failed requests, the wait for a page's
 * data, and axe-core's serious and critical violations.
 */
'use strict';
const fs = require('fs');
const puppeteer = require('puppeteer-core');

const AXE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const CHROME = process.env.CHROMIUM || '/usr/bin/chromium';
const state = { failed: 0 };

function check(ok, sentence, why) {
  if (ok) console.log(`ok - ${sentence}`);
  else { state.failed++; console.log(`not ok - ${sentence}${why ? ': ' + why : ''}`); }
}

function launch() {
  return puppeteer.launch({
    executablePath: CHROME, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

/* A page with its console errors and failed requests recorded. */
async function open(browser, url, viewport) {
  const page = await browser.newPage();
  await page.setViewport(viewport || { width: 1280, height: 900 });
  const problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning' || m.type() === 'warn')
      problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`failed: ${r.url()} ${r.failure() && r.failure().errorText}`));
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  await page.goto(url, { waitUntil: 'load' });
  return { page, problems };
}

/* Waits until the page's script says its data is shown. */
async function ready(page, ms) {
  await page.waitForSelector('body[data-ready="true"]', { timeout: ms || 20000 });
}

async function axe(page) {
  await page.evaluate(AXE);
  return page.evaluate(async () => {
    const res = await window.axe.run(document, { resultTypes: ['violations'] });
    return res.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
  });
}

module.exports = { state, check, launch, open, ready, axe };
