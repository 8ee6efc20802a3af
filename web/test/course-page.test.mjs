// The course page in a real browser: Debian's chromium, headless, driven by puppeteer-core.
//
// It loads the built page from disk (file://), moves β the way a student does (typing into the
// β box, the arrow keys on the slider, clicking a cell), and checks that every number the page
// shows equals what `riskmdp solve --json` (or `riskmdp sweep`) prints for the same model to
// 1e-12 relative, the greedy actions and the greedy path included; that a bad model file gets
// exactly the command line's one-line error; that no page error or console error occurred. It
// times a slider move on the cliff (recompute + redraw) and saves screenshots.
//
// Usage: node web/test/course-page.test.mjs [--page PAGE.html] [--bin riskmdp] [--out DIR]
//        [--figures DIR]   (also write the README's screenshots there)
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import puppeteer from 'puppeteer-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, a, i, all) => (a.startsWith('--') ? [...pairs, [a.slice(2), all[i + 1]]] : pairs), []),
);
const PAGE = path.resolve(args.page ?? path.join(ROOT, 'web/dist/riskmdp-course.html'));
const BIN = path.resolve(args.bin ?? path.join(ROOT, 'target/release/riskmdp'));
const OUT = path.resolve(args.out ?? path.join(ROOT, 'target/course-page'));
const FIGURES = args.figures ? path.resolve(args.figures) : null;
const MODELS = path.join(ROOT, 'examples/mdps');
/** Relative agreement required with the command line. */
const REL = 1e-12;
/** What "well under 100 ms" means for one slider move on the cliff, median over the moves. */
const SLIDER_BUDGET_MS = 50;

let checks = 0;
const failures = [];
function check(ok, what) {
  checks += 1;
  if (!ok) {
    failures.push(what);
    console.error(`FAIL ${what}`);
  }
}
function close(page, cli, what) {
  const ok = Number.isFinite(page) && Math.abs(page - cli) <= REL * Math.max(Math.abs(cli), 1e-300);
  check(ok || page === cli, `${what}: page ${page}, riskmdp ${cli}`);
}
/** A number as the page prints it. */
const num = (text) => Number(text.trim());

function cli(...argv) {
  return execFileSync(BIN, argv, { cwd: ROOT, encoding: 'utf8' });
}
function solve(model, beta) {
  return JSON.parse(cli('solve', path.join(MODELS, model), '--beta', String(beta), '--json'));
}
/** The command line's error line (stderr) for a model file, run where the file lies. */
function cliError(dir, file) {
  const r = spawnSync(BIN, ['solve', file, '--beta', '1'], { cwd: dir, encoding: 'utf8' });
  check(r.status === 2, `riskmdp solve ${file} exits with status 2 (got ${r.status})`);
  return r.stderr.trim();
}

/**
 * The greedy path of `riskmdp solve --json` output, walked here independently of the engine's
 * `greedy_path`: from the start, take the greedy action and move to its most likely next state
 * (lowest index on ties), until a terminal state, a state outside the grid, a repeat, or as
 * many states as cells.
 */
function pathFromCli(model, report) {
  const m = JSON.parse(fs.readFileSync(path.join(MODELS, model), 'utf8'));
  const cells = m.grid.rows * m.grid.cols;
  let s = m.initial.indexOf(1);
  const walk = [s];
  while (walk.length < cells && !m.terminal[s]) {
    const row = m.transitions[s][report.greedy[s]];
    let next = 0;
    row.forEach((p, j) => { if (p > row[next]) next = j; });
    if (next >= cells || walk.includes(next)) break;
    walk.push(next);
    s = next;
  }
  return walk.map((i) => report.states[i]);
}

/** An n×n gridworld with noisy moves and discount γ, rows sparse: slow to solve for γ near 1. */
function slowGrid(n, gamma) {
  const moves = [[-1, 0], [0, 1], [1, 0], [0, -1]];
  const cell = (r, c) => Math.min(n - 1, Math.max(0, r)) * n + Math.min(n - 1, Math.max(0, c));
  const transitions = [];
  const rewards = [];
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      transitions.push(moves.map((_, a) => {
        const row = new Map();
        moves.forEach(([dr, dc], d) => {
          const t = cell(r + dr, c + dc);
          row.set(t, (row.get(t) ?? 0) + (d === a ? 0.775 : 0.075));
        });
        return [...row.entries()];
      }));
      rewards.push(Array(4).fill(r === n - 1 && c === n - 1 ? 1 : 0));
    }
  }
  return { states: n * n, actions: 4, gamma, transitions, rewards };
}

async function typeBeta(page, prefix, beta) {
  await page.click(`#${prefix}-beta-num`, { clickCount: 3 });
  await page.keyboard.type(String(beta));
  await page.keyboard.press('Tab');
  const shown = await page.$eval(`#${prefix}-beta-num`, (e) => e.value);
  check(Number(shown) === beta, `${prefix}: the β box shows ${beta} (got ${shown})`);
}

const text = (page, sel) => page.$eval(sel, (e) => e.textContent);

async function main() {
  fs.mkdirSync(OUT, { recursive: true });
  if (FIGURES) fs.mkdirSync(FIGURES, { recursive: true });
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'riskmdp-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    userDataDir: profile,
    headless: true,
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run'],
  });
  const problems = [];
  const timings = {};
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 900, deviceScaleFactor: 1 });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
    const t0 = performance.now();
    await page.goto(pathToFileURL(PAGE).href);
    await page.waitForSelector('body[data-ready=true]', { timeout: 60_000 });
    timings.page_ready_ms = performance.now() - t0;
    const wasm = await page.$eval('#engine-wasm', (e) => e.textContent.trim().length);
    timings.wasm_bytes = Math.floor(wasm * 3 / 4);

    // ---- 1. the risky arm --------------------------------------------------------------
    const arm = 'risky_arm.json';
    for (const beta of [0.5, 2.2, 2.3, 1000]) {
      await typeBeta(page, 'arm', beta);
      const r = solve(arm, beta);
      const [S, A, B] = ['S', 'A', 'B'].map((n) => r.states.indexOf(n));
      const [left, right] = ['left', 'right'].map((n) => r.actions.indexOf(n));
      const what = (q) => `risky arm, β = ${beta}: ${q}`;
      close(num(await text(page, '#arm-ceq-left')), r.certainty_equivalent_q[S][left], what('β·Q*(S,left)'));
      close(num(await text(page, '#arm-ceq-right')), r.certainty_equivalent_q[S][right], what('β·Q*(S,right)'));
      close(num(await text(page, '#arm-qA')), r.posterior_dynamics[S][right][A], what('q(A|S,right)'));
      close(num(await text(page, '#arm-qB')), r.posterior_dynamics[S][right][B], what('q(B|S,right)'));
      close(num(await text(page, '#arm-v')), r.certainty_equivalent[S], what('β·V*(S)'));
      close(num(await text(page, '#arm-er')), r.expected_return[S], what('expected return'));
      const greedy = (await page.$eval('#arm-greedy .tag', (e) => e.textContent)).trim();
      check(greedy === r.actions[r.greedy[S]], what(`greedy ${greedy}, riskmdp ${r.actions[r.greedy[S]]}`));
      check(greedy === (beta < 2.2756 ? 'right' : 'left'), what(`greedy ${greedy} on the expected side of 5/ln 9`));
    }
    const sweep = JSON.parse(cli('sweep', path.join(MODELS, arm), '--points', '121', '--json'));
    const armSwitch = await text(page, '#arm-switch');
    check(armSwitch.startsWith(`greedy switches from \`right\` to \`left\` at β = ${sweep.switches[0].beta.toFixed(12)}`),
      `risky arm: the switch line "${armSwitch.slice(0, 70)}…" starts as riskmdp sweep's`);
    await typeBeta(page, 'arm', 1);
    await page.evaluate(() => document.activeElement.blur());
    await (await page.$('#arm')).screenshot({ path: path.join(OUT, 'course_page_risky_arm.png') });

    // ---- 2. the cliff gridworld --------------------------------------------------------
    const cliff = 'cliff_gridworld.json';
    const cliffSwitch = await text(page, '#cliff-switch');
    const leaves = Number(/leaves the cliff at β = ([0-9]+\.[0-9]+)/.exec(cliffSwitch)?.[1]);
    check(Math.abs(leaves - 4.6908) < 5e-5, `cliff: the path leaves the cliff at β = ${leaves} ≈ 4.6908`);
    for (const [beta, cell] of [[0.5, 'r0c0'], [4.6, 'r5c0'], [4.8, 'r5c0'], [1000, 'r6c3']]) {
      await page.select('#cliff-state', String((await solve(cliff, 1).states).indexOf(cell)));
      await typeBeta(page, 'cliff', beta);
      const r = solve(cliff, beta);
      const s = r.states.indexOf(cell);
      const what = (q) => `cliff, β = ${beta}, ${cell}: ${q}`;
      const pagePath = (await text(page, '#cliff-path')).split(' → ');
      const cliPath = pathFromCli(cliff, r);
      check(pagePath.join(' ') === cliPath.join(' '), what(`greedy path ${pagePath.join(' ')} vs riskmdp ${cliPath.join(' ')}`));
      const kind = await text(page, '#cliff-path-kind .tag');
      check(kind.includes(beta < 4.6908 ? 'along the cliff' : 'round the cliff'), what(`path kind "${kind}"`));
      check((await text(page, '#cliff-state-view .state-name')) === cell, what('the chosen state is shown'));
      close(num(await text(page, '#cliff-state-view .state-v')), r.certainty_equivalent[s], what('β·V*'));
      close(num(await text(page, '#cliff-state-view .state-er')), r.expected_return[s], what('expected return'));
      const ceq = await page.$$eval('#cliff-state-view .q-table tbody tr',
        (rows) => rows.map((tr) => [tr.dataset.action, tr.classList.contains('greedy'), tr.querySelector('.ceq').textContent]));
      check(ceq.length === r.actions.length, what('one row per action'));
      for (const [a, greedy, value] of ceq) {
        const i = r.actions.indexOf(a);
        close(num(value), r.certainty_equivalent_q[s][i], what(`β·Q*(s, ${a})`));
        check(greedy === (i === r.greedy[s]), what(`${a} greedy on the page iff riskmdp says so`));
      }
      const post = await page.$$eval('#cliff-state-view .post-table tbody tr',
        (rows) => rows.map((tr) => [tr.dataset.next, tr.querySelector('.q').textContent]));
      const g = r.greedy[s];
      const support = r.posterior_dynamics[s][g].map((q, j) => [j, q]).filter(([j]) => JSON.parse(
        fs.readFileSync(path.join(MODELS, cliff), 'utf8')).transitions[s][g][j] > 0);
      check(post.length === support.length, what(`${post.length} posterior rows for ${support.length} next states`));
      for (const [next, q] of post) close(num(q), r.posterior_dynamics[s][g][r.states.indexOf(next)], what(`q(${next}|s, a*)`));
      await page.evaluate(() => document.activeElement.blur());
      if (beta === 0.5) await (await page.$('#cliff')).screenshot({ path: path.join(OUT, 'course_page_cliff_small_beta.png') });
      if (beta === 1000) await (await page.$('#cliff')).screenshot({ path: path.join(OUT, 'course_page_cliff_large_beta.png') });
    }
    // A cell is chosen by a click on the grid, and moved with the arrow keys.
    const box = await (await page.$('#cliff-grid')).boundingBox();
    const cellPx = box.width / 10;
    await page.mouse.click(box.x + 0.5 * cellPx, box.y + 5.5 * cellPx);
    check((await text(page, '#cliff-state-view .state-name')) === 'r5c0', 'cliff: a click on row 5, column 0 chooses r5c0');
    await page.keyboard.press('ArrowDown');
    check((await text(page, '#cliff-state-view .state-name')) === 'r6c0', 'cliff: ArrowDown on the grid chooses r6c0');
    await page.select('#cliff-state', String(solve(cliff, 1).states.indexOf('r5c0')));

    // The slider from the keyboard: focus, arrow keys, Home/End.
    await page.focus('#cliff-beta-range');
    await page.keyboard.press('Home');
    check(Number(await page.$eval('#cliff-beta-num', (e) => e.value)) === 0.01, 'cliff: Home moves β to 0.01');
    await page.keyboard.press('ArrowRight');
    const afterArrow = Number(await page.$eval('#cliff-beta-num', (e) => e.value));
    check(Math.abs(afterArrow - 10 ** -1.99) < 1e-6, `cliff: ArrowRight moves β one step (0.01 decade) to ${afterArrow}`);
    await page.keyboard.press('End');
    check(Number(await page.$eval('#cliff-beta-num', (e) => e.value)) === 1000, 'cliff: End moves β to 1000');

    // Timing: a slider move on the cliff, recompute + redraw (synchronous in the input handler),
    // and until the next frame is painted; over the whole range, 0.02 decades at a time.
    const t = await page.evaluate(async () => {
      const range = document.getElementById('cliff-beta-range');
      const handler = [];
      const frame = [];
      for (let pos = -2; pos <= 3.0001; pos += 0.02) {
        range.value = String(pos);
        const start = performance.now();
        range.dispatchEvent(new Event('input', { bubbles: true }));
        handler.push(performance.now() - start);
        await new Promise((r) => requestAnimationFrame(() => r()));
        frame.push(performance.now() - start);
      }
      return { handler, frame };
    });
    const stats = (xs) => {
      const s = [...xs].sort((a, b) => a - b);
      return { moves: s.length, median_ms: s[Math.floor(s.length / 2)], p95_ms: s[Math.floor(0.95 * (s.length - 1))], max_ms: s[s.length - 1] };
    };
    timings.cliff_slider_update = stats(t.handler);
    timings.cliff_slider_to_next_frame = stats(t.frame);
    check(timings.cliff_slider_update.median_ms < SLIDER_BUDGET_MS,
      `cliff: a slider move takes ${timings.cliff_slider_update.median_ms.toFixed(1)} ms (median), under ${SLIDER_BUDGET_MS} ms`);
    await typeBeta(page, 'cliff', 0.5);
    await page.select('#cliff-state', '0');

    // ---- 3. your own MDP ---------------------------------------------------------------
    // It opens on the coin flip of web/page/coin_flip.json: the switch lines of `riskmdp sweep`.
    await page.waitForFunction(() => document.getElementById('own').dataset.state === 'ready', { timeout: 30_000 });
    const coinLines = cli('sweep', path.join(ROOT, 'web/page/coin_flip.json'), '--points', '121').split('\n')
      .filter((l) => l.startsWith('greedy switches'));
    const coinPage = await page.$$eval('#own-switches li', (lis) => lis.map((li) => li.textContent));
    check(coinLines.length === 1 && JSON.stringify(coinPage) === JSON.stringify(coinLines),
      `own MDP, coin flip: switch lines ${coinPage} equal riskmdp sweep's ${coinLines}`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'riskmdp-models-'));
    const good = JSON.parse(fs.readFileSync(path.join(MODELS, arm), 'utf8'));
    const bad = {
      // transitions[0][1] sums to 0.97
      'row_sum.json': JSON.stringify({ ...good, transitions: [[[0, 0, 0, 0, 0, 1], [0, 0.87, 0.1, 0, 0, 0]], ...good.transitions.slice(1)] }),
      'syntax.json': fs.readFileSync(path.join(MODELS, arm), 'utf8').replace('"gamma": 1.0,', '"gamma": 1.0'),
      'unknown_state.json': JSON.stringify({ ...good, initial: [1, 0, 0, 0, 0] }),
      // 400 states, γ = 0.99: within the size limits, but one solve takes a second or more.
      'too_slow.json': JSON.stringify(slowGrid(20, 0.99)),
      'too_large.json': JSON.stringify({
        name: 'long-chain', states: 3000, actions: 1, gamma: 0.9,
        transitions: Array.from({ length: 3000 }, (_, s) => [[[Math.min(s + 1, 2999), 1]]]),
        rewards: Array.from({ length: 3000 }, () => [1]),
      }),
    };
    for (const [file, body] of Object.entries(bad)) {
      fs.writeFileSync(path.join(dir, file), body);
      await (await page.$('#own-file')).uploadFile(path.join(dir, file));
      await page.waitForFunction(() => document.getElementById('own').dataset.state === 'error', { timeout: 10_000 });
      const line = (await text(page, '#own-error')).trim();
      check(!line.includes('\n'), `own MDP ${file}: one line`);
      if (file === 'too_slow.json') {
        check(/^error: one solve of `too_slow` takes \d+ ms here/.test(line), `own MDP ${file}: refused with "${line}"`);
      } else if (file === 'too_large.json') {
        check(/^error: `long-chain` is too large for the page \(3000 states/.test(line), `own MDP ${file}: refused with "${line}"`);
      } else {
        const expected = cliError(dir, file);
        check(line === expected, `own MDP ${file}: the page says "${line}", riskmdp says "${expected}"`);
      }
    }
    // A good file: the switch lines of `riskmdp sweep` and the solution at β.
    fs.writeFileSync(path.join(dir, 'my_model.json'), fs.readFileSync(path.join(MODELS, 'risky_arm.json')));
    await (await page.$('#own-file')).uploadFile(path.join(dir, 'my_model.json'));
    await page.waitForFunction(() => document.getElementById('own').dataset.state === 'ready', { timeout: 30_000 });
    check((await text(page, '#own-error')) === '', 'own MDP: a good file clears the error line');
    const sweepText = cli('sweep', path.join(dir, 'my_model.json'), '--points', '121').split('\n').filter((l) => l.startsWith('greedy switches'));
    const pageSwitches = await page.$$eval('#own-switches li', (lis) => lis.map((li) => li.textContent));
    check(JSON.stringify(pageSwitches) === JSON.stringify(sweepText), `own MDP: switch lines ${pageSwitches} equal riskmdp sweep's ${sweepText}`);
    await typeBeta(page, 'own', 2.3);
    const r = solve(arm, 2.3);
    const rows = await page.$$eval('#own-table tbody tr', (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
    check(rows.length === r.states.length, 'own MDP: a row per state');
    rows.forEach(([name, v, greedy, ...q], s) => {
      check(name === r.states[s], `own MDP: row ${s} is ${r.states[s]}`);
      if (r.terminal[s]) return;
      close(num(v), r.certainty_equivalent[s], `own MDP, β = 2.3: β·V*(${name})`);
      check(greedy === r.actions[r.greedy[s]], `own MDP, β = 2.3: greedy at ${name}`);
      q.forEach((x, a) => close(num(x), r.certainty_equivalent_q[s][a], `own MDP, β = 2.3: β·Q*(${name}, ${r.actions[a]})`));
    });
    // The MnM gridworld from the example buttons: its grid is drawn.
    await page.click('[data-example="mnm_gridworld.json"]');
    await page.waitForFunction(() => document.getElementById('own').dataset.state === 'ready', { timeout: 60_000 });
    check(!(await page.$eval('#own-grid-row', (e) => e.hidden)), 'own MDP: a grid model gets its grid drawn');
    await page.click('[data-example="coin_flip.json"]');
    await page.waitForFunction(() => document.getElementById('own').dataset.state === 'ready', { timeout: 30_000 });
    await typeBeta(page, 'own', 10);
    await page.evaluate(() => document.activeElement.blur());
    await (await page.$('#own')).screenshot({ path: path.join(OUT, 'course_page_own_mdp.png') });
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(OUT, 'course_page.png') });
    await page.screenshot({ path: path.join(OUT, 'course_page_full.png'), fullPage: true });
  } finally {
    await browser.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  for (const p of problems) check(false, p);
  check(problems.length === 0, 'no page error, console error or failed request');
  if (FIGURES) {
    for (const f of ['course_page_risky_arm.png', 'course_page_cliff_small_beta.png', 'course_page_cliff_large_beta.png', 'course_page_own_mdp.png']) {
      fs.copyFileSync(path.join(OUT, f), path.join(FIGURES, f));
    }
  }
  const report = { page: PAGE, checks, failures: failures.length, ...timings };
  fs.writeFileSync(path.join(OUT, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  console.log(JSON.stringify(report, null, 2));
  console.log(failures.length === 0 ? `course page: ${checks} checks passed` : `course page: ${failures.length} of ${checks} checks FAILED`);
  process.exitCode = failures.length === 0 ? 0 : 1;
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
