// The course page: reads the engine's answers and draws them. It computes no number itself:
// every value, greedy action, path and switch point comes from the riskmdp engine (WebAssembly,
// web/src/lib.rs), through the functions of `Engine` below.
'use strict';
(() => {
  const BETA_MIN = 0.01;
  const BETA_MAX = 1000;
  /** Points of the β sweeps behind the charts (log-spaced over [BETA_MIN, BETA_MAX]). */
  const SWEEP_POINTS = 121;
  /** Points of the grid on which the greedy path's changes are bracketed. */
  const PATH_POINTS = 41;
  /** Most rows of the solution table of panel 3. */
  const MAX_TABLE_ROWS = 40;
  /**
   * Longest one solve of a model of panel 3 may take (timed at β = 1 before the sweep): the
   * sweep solves it about 150 times, which must take seconds, not minutes.
   */
  const SOLVE_BUDGET_MS = 100;
  /** Most posterior curves in one chart. */
  const MAX_CURVES = 10;
  const RISKY = '#c62828';
  const SAFE = '#2e7d32';
  const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs = {}, ...children) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else e.setAttribute(k, v);
    }
    for (const c of children) e.append(c);
    return e;
  };

  // ---- numbers as text --------------------------------------------------------------------

  /** A number with 15 significant digits (exact to 1e-14 relative), trailing zeros dropped. */
  function full(x) {
    if (!Number.isFinite(x)) return String(x);
    if (x === 0) return '0';
    const s = x.toPrecision(15);
    const [m, e] = s.split('e');
    const mant = m.includes('.') ? m.replace(/\.?0+$/, '') : m;
    return e === undefined ? mant : `${mant}e${e}`;
  }
  /** A short label: 4 significant digits. */
  function short(x) {
    if (x === 0) return '0';
    if (Math.abs(x) >= 1e-3 && Math.abs(x) < 1e5) return String(Number(x.toPrecision(4)));
    return x.toExponential(2);
  }

  // ---- the engine --------------------------------------------------------------------------

  class EngineError extends Error {}

  /** The riskmdp engine: plain exports over memory; text and JSON through one output buffer. */
  class Engine {
    constructor(instance) {
      this.x = instance.exports;
      this.enc = new TextEncoder();
      this.dec = new TextDecoder();
    }
    static async start() {
      const b64 = $('engine-wasm').textContent.trim();
      const bin = atob(b64);
      const bytes = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      const { instance } = await WebAssembly.instantiate(bytes, {});
      return new Engine(instance);
    }
    out() {
      return this.dec.decode(new Uint8Array(this.x.memory.buffer, this.x.rm_out_ptr(), this.x.rm_out_len()));
    }
    put(bytes) {
      const ptr = this.x.rm_alloc(bytes.length);
      new Uint8Array(this.x.memory.buffer, ptr, bytes.length).set(bytes);
      return ptr;
    }
    /** A model handle, or an EngineError with the command line's one-line message. */
    load(text, name) {
      const t = this.enc.encode(text);
      const n = this.enc.encode(name);
      const tp = this.put(t);
      const np = this.put(n);
      const handle = this.x.rm_load(tp, t.length, np, n.length);
      this.x.rm_free(tp, t.length);
      this.x.rm_free(np, n.length);
      if (handle === 0) throw new EngineError(this.out());
      return handle;
    }
    call(name, ...args) {
      const rc = this.x[name](...args);
      const text = this.out();
      if (rc < 0) throw new EngineError(text);
      return JSON.parse(text);
    }
    info(h) { return this.call('rm_info', h); }
    solve(h, beta, state) { return this.call('rm_solve', h, beta, state); }
    sweep(h, state) { return this.call('rm_sweep', h, state, SWEEP_POINTS); }
    pathSwitches(h) { return this.call('rm_path_switches', h, PATH_POINTS); }
    riskyArmMarks() { return this.call('rm_risky_arm_marks'); }
    drop(h) { this.x.rm_drop(h); }
  }

  // ---- the β control -----------------------------------------------------------------------

  const toPos = (beta) => Math.log10(beta);
  const fromPos = (pos) => 10 ** pos;
  const frac = (beta) => (toPos(beta) - toPos(BETA_MIN)) / (toPos(BETA_MAX) - toPos(BETA_MIN));

  /**
   * A labelled log-scale slider over [0.01, 1000] with a number box and marks; calls
   * `onChange(beta)` synchronously on every move (arrow keys, PageUp/PageDown, Home/End, drag,
   * or a typed value).
   */
  class BetaControl {
    constructor(root, prefix, initial, onChange) {
      this.onChange = onChange;
      const rangeId = `${prefix}-beta-range`;
      const numId = `${prefix}-beta-num`;
      this.range = el('input', { type: 'range', id: rangeId, min: toPos(BETA_MIN), max: toPos(BETA_MAX), step: '0.01' });
      this.num = el('input', { type: 'number', id: numId, min: BETA_MIN, max: BETA_MAX, step: 'any' });
      this.note = el('span', { class: 'small', 'aria-live': 'polite' });
      root.append(
        el('div', { class: 'beta-row' },
          el('label', { for: rangeId, class: 'beta-label', text: 'Risk parameter β (log scale, 0.01 … 1000)' }),
          el('label', { for: numId, text: 'β =' }), this.num, this.note),
      );
      this.ticks = el('div', { class: 'beta-ticks', 'aria-hidden': 'true' });
      for (const t of [0.01, 0.1, 1, 10, 100, 1000]) {
        const s = el('span', { text: String(t) });
        s.style.left = `${100 * frac(t)}%`;
        this.ticks.append(s);
      }
      this.marks = el('div', { class: 'beta-marks' });
      this.range.setAttribute('aria-describedby', `${prefix}-beta-keys`);
      root.append(el('div', { class: 'beta-track' }, this.range, this.ticks, this.marks));
      root.append(el('p', { class: 'small keys', id: `${prefix}-beta-keys`,
        text: 'Keyboard: on the slider, ← and → move β by 0.01 decade, Home and End go to 0.01 and 1000; '
          + 'or type β in the box. The buttons under the slider jump to the marked values.' }));
      this.range.addEventListener('input', () => this.set(fromPos(Number(this.range.value)), 'range'));
      this.num.addEventListener('change', () => {
        const b = Number(this.num.value);
        if (!(b > 0) || !Number.isFinite(b)) {
          this.note.textContent = 'β must be a positive number';
          return;
        }
        this.set(Math.min(BETA_MAX, Math.max(BETA_MIN, b)), 'number');
      });
      this.set(initial, 'init');
    }
    set(beta, from) {
      this.beta = beta;
      if (from !== 'range') this.range.value = String(toPos(beta));
      if (from !== 'number') this.num.value = String(Number(beta.toPrecision(6)));
      else this.num.value = String(beta);
      this.note.textContent = '';
      this.range.setAttribute('aria-valuetext', `β = ${short(beta)}`);
      if (from !== 'init') this.onChange(beta);
    }
    /** Marks: [{beta, label, main}] — buttons that move β onto the mark. */
    setMarks(marks) {
      this.marks.replaceChildren();
      marks.forEach((m, i) => {
        const b = el('button', { type: 'button', class: m.main ? 'main' : '', title: `set β to ${full(m.beta)}`, text: m.label });
        b.style.left = `${100 * frac(m.beta)}%`;
        // Neighbouring labels alternate between two rows so that close marks stay readable.
        if (i % 2 === 1) b.classList.add('lower');
        b.addEventListener('click', () => this.set(m.beta, 'mark'));
        this.marks.append(b);
      });
    }
  }

  // ---- charts ------------------------------------------------------------------------------

  /** 1, or more in the larger-text mode (for a projector). */
  const scale = () => (document.body.classList.contains('large') ? 1.25 : 1);

  /** A canvas sized to its CSS box at the device's pixel ratio; the 2D context in CSS pixels. */
  function context(canvas) {
    const dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth || canvas.width;
    // Grids are square; charts keep the height their element declares (taller in large text).
    const h = canvas.dataset.square ? w : Math.round((Number(canvas.getAttribute('height')) || canvas.clientHeight) * scale());
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(h * dpr);
      canvas.style.height = `${h}px`;
    }
    const ctx = canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    return { ctx, w, h };
  }

  function niceTicks(lo, hi, n) {
    const span = hi - lo || 1;
    const raw = span / n;
    const mag = 10 ** Math.floor(Math.log10(raw));
    const step = [1, 2, 2.5, 5, 10].map((k) => k * mag).find((s) => s >= raw) || raw;
    const ticks = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9 * span; v += step) ticks.push(Math.abs(v) < 1e-12 * span ? 0 : v);
    return ticks;
  }

  /**
   * A chart against β on a log axis: series [{label, color, xs, ys, dash}], shaded regions
   * [{x0, x1, color}], vertical marks [{x, color}], a cursor at β.
   */
  function drawChart(canvas, spec) {
    const { ctx, w, h } = context(canvas);
    // The legend goes between the title and the frame, in as many lines as it needs.
    ctx.font = `${Math.round(12 * scale())}px "DejaVu Sans", sans-serif`;
    const legend = [];
    let lx = 58 * scale();
    let line = 0;
    for (const s of spec.series) {
      const tw = ctx.measureText(s.label).width;
      if (lx + 30 + tw > w - 22 && lx > 58 * scale()) { lx = 58 * scale(); line += 1; }
      legend.push({ s, x: lx, line });
      lx += 40 + tw;
    }
    const k = scale();
    const pad = { l: 58 * k, r: 22 * k, t: (42 + 16 * line) * k, b: 40 * k };
    const pw = w - pad.l - pad.r;
    const ph = h - pad.t - pad.b;
    let lo = Infinity;
    let hi = -Infinity;
    for (const s of spec.series) for (const y of s.ys) if (Number.isFinite(y)) { lo = Math.min(lo, y); hi = Math.max(hi, y); }
    if (spec.yRange) [lo, hi] = spec.yRange;
    if (!(hi > lo)) { lo -= 1; hi += 1; }
    const m = 0.06 * (hi - lo);
    lo -= m; hi += m;
    const X = (b) => pad.l + pw * frac(b);
    const Y = (y) => pad.t + ph * (1 - (y - lo) / (hi - lo));
    ctx.clearRect(0, 0, w, h);
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, w, h);
    for (const r of spec.regions || []) {
      ctx.fillStyle = r.color;
      ctx.fillRect(X(r.x0), pad.t, X(r.x1) - X(r.x0), ph);
    }
    ctx.font = `${Math.round(12 * scale())}px "DejaVu Sans", sans-serif`;
    ctx.strokeStyle = '#ddd';
    ctx.fillStyle = '#333';
    ctx.lineWidth = 1;
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (const t of niceTicks(lo, hi, 6)) {
      ctx.beginPath(); ctx.moveTo(pad.l, Y(t)); ctx.lineTo(pad.l + pw, Y(t)); ctx.stroke();
      ctx.fillText(short(t), pad.l - 6, Y(t));
    }
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    for (let e = -2; e <= 3; e++) {
      const b = 10 ** e;
      ctx.beginPath(); ctx.moveTo(X(b), pad.t); ctx.lineTo(X(b), pad.t + ph); ctx.stroke();
      ctx.fillText(String(b), X(b), pad.t + ph + 5);
    }
    ctx.fillText('β (log scale)', pad.l + pw / 2, pad.t + ph + 22 * scale());
    ctx.strokeStyle = '#333';
    ctx.strokeRect(pad.l, pad.t, pw, ph);
    for (const v of spec.vlines || []) {
      ctx.save();
      ctx.strokeStyle = v.color || '#333';
      ctx.setLineDash([5, 4]);
      ctx.lineWidth = 1.5;
      ctx.beginPath(); ctx.moveTo(X(v.x), pad.t); ctx.lineTo(X(v.x), pad.t + ph); ctx.stroke();
      ctx.restore();
    }
    for (const s of spec.series) {
      ctx.save();
      ctx.strokeStyle = s.color;
      ctx.lineWidth = 2.5;
      ctx.setLineDash(s.dash || []);
      ctx.beginPath();
      s.xs.forEach((x, i) => { const y = s.ys[i]; if (i === 0) ctx.moveTo(X(x), Y(y)); else ctx.lineTo(X(x), Y(y)); });
      ctx.stroke();
      ctx.restore();
    }
    if (spec.cursor !== undefined) {
      ctx.save();
      ctx.strokeStyle = '#1f5fa8';
      ctx.lineWidth = 2;
      ctx.beginPath(); ctx.moveTo(X(spec.cursor), pad.t); ctx.lineTo(X(spec.cursor), pad.t + ph); ctx.stroke();
      for (const p of spec.cursorPoints || []) {
        ctx.fillStyle = p.color;
        ctx.beginPath(); ctx.arc(X(spec.cursor), Y(p.y), 4.5, 0, 2 * Math.PI); ctx.fill();
      }
      ctx.restore();
    }
    // Legend, between the title and the frame.
    ctx.font = `${Math.round(12 * scale())}px "DejaVu Sans", sans-serif`;
    ctx.textAlign = 'left';
    ctx.textBaseline = 'middle';
    for (const { s, x, line: row } of legend) {
      const y = (30 + 16 * row) * scale();
      ctx.save();
      ctx.strokeStyle = s.color; ctx.lineWidth = 2.5; ctx.setLineDash(s.dash || []);
      ctx.beginPath(); ctx.moveTo(x, y); ctx.lineTo(x + 20, y); ctx.stroke();
      ctx.restore();
      ctx.fillStyle = '#222';
      ctx.fillText(s.label, x + 24, y);
    }
    if (spec.title) {
      ctx.textAlign = 'left';
      ctx.textBaseline = 'alphabetic';
      ctx.font = `bold ${Math.round(13 * scale())}px "DejaVu Sans", sans-serif`;
      ctx.fillStyle = '#222';
      ctx.fillText(spec.title, pad.l, 14 * scale());
    }
  }

  /** Light tint of a colour for a shaded region. */
  const tint = (hex, a = 0.14) => {
    const n = parseInt(hex.slice(1), 16);
    return `rgba(${n >> 16}, ${(n >> 8) & 255}, ${n & 255}, ${a})`;
  };

  /** Regions of a sweep between its switches, each with its greedy action. */
  function greedyRegions(sweep) {
    const edges = [BETA_MIN, ...sweep.switches.map((s) => s.beta), BETA_MAX];
    const actions = [sweep.points[0].greedy, ...sweep.switches.map((s) => s.to)];
    return actions.map((a, i) => ({ x0: edges[i], x1: edges[i + 1], action: a }));
  }

  // ---- grid drawing ------------------------------------------------------------------------

  /** Draw a grid model: cells by role, the greedy action's posterior arrows, the greedy path. */
  function drawGrid(canvas, info, view, selected) {
    const L = info.layout;
    const { ctx, w, h } = context(canvas);
    const cell = Math.min((w - 4) / L.cols, (h - 4) / L.rows);
    const ox = (w - cell * L.cols) / 2;
    const oy = (h - cell * L.rows) / 2;
    const cx = (s) => ox + (s % L.cols + 0.5) * cell;
    const cy = (s) => oy + (Math.floor(s / L.cols) + 0.5) * cell;
    const role = new Map();
    for (const s of L.hazards) role.set(s, 'hazard');
    for (const s of L.walls) role.set(s, 'wall');
    for (const s of L.goals) role.set(s, 'goal');
    if (L.start !== null) role.set(L.start, 'start');
    ctx.clearRect(0, 0, w, h);
    const fill = { wall: '#6b6b6b', hazard: '#f2b8b5', goal: '#bfe3c0', start: '#bcd7f2' };
    for (let s = 0; s < L.rows * L.cols; s++) {
      const x = ox + (s % L.cols) * cell;
      const y = oy + Math.floor(s / L.cols) * cell;
      ctx.fillStyle = fill[role.get(s)] || '#fff';
      ctx.fillRect(x, y, cell, cell);
      ctx.strokeStyle = '#bbb';
      ctx.lineWidth = 1;
      ctx.strokeRect(x + 0.5, y + 0.5, cell - 1, cell - 1);
      const letter = { start: 'S', goal: 'G' }[role.get(s)];
      if (letter) {
        ctx.fillStyle = '#333';
        ctx.font = `bold ${Math.round(cell * 0.32)}px "DejaVu Sans", sans-serif`;
        ctx.textAlign = 'left';
        ctx.textBaseline = 'top';
        ctx.fillText(letter, x + 3, y + 2);
      }
    }
    const adjacent = (s, t) => t < L.rows * L.cols
      && Math.abs(Math.floor(s / L.cols) - Math.floor(t / L.cols)) + Math.abs((s % L.cols) - (t % L.cols)) === 1;
    const arrows = (s, pairs, color, width) => {
      ctx.strokeStyle = color;
      ctx.fillStyle = color;
      ctx.lineWidth = width;
      for (const [t, p] of pairs) {
        if (p < 0.01) continue;
        if (t === s) {
          ctx.beginPath(); ctx.arc(cx(s), cy(s), Math.sqrt(p) * cell * 0.16, 0, 2 * Math.PI); ctx.fill();
        } else if (adjacent(s, t)) {
          const dx = (cx(t) - cx(s)) * 0.5 * p;
          const dy = (cy(t) - cy(s)) * 0.5 * p;
          const ex = cx(s) + dx;
          const ey = cy(s) + dy;
          ctx.beginPath(); ctx.moveTo(cx(s), cy(s)); ctx.lineTo(ex, ey); ctx.stroke();
          const a = Math.atan2(dy, dx);
          const hl = Math.min(cell * 0.12, 3 + 0.5 * Math.hypot(dx, dy));
          ctx.beginPath();
          ctx.moveTo(ex, ey);
          ctx.lineTo(ex - hl * Math.cos(a - 0.45), ey - hl * Math.sin(a - 0.45));
          ctx.lineTo(ex - hl * Math.cos(a + 0.45), ey - hl * Math.sin(a + 0.45));
          ctx.closePath(); ctx.fill();
        }
      }
    };
    view.greedy_posterior.forEach((pairs, s) => { if (role.get(s) !== 'wall') arrows(s, pairs, '#1e3270', 1.6); });
    if (selected !== null && selected < L.rows * L.cols && !info.terminal[selected]) {
      const a = view.greedy[selected];
      const prior = view.prior[a].map((p, t) => [t, p]).filter(([, p]) => p > 0);
      ctx.save();
      ctx.globalAlpha = 0.55;
      arrows(selected, prior, '#777', 4);
      ctx.restore();
      arrows(selected, view.greedy_posterior[selected], '#1e3270', 1.6);
    }
    if (view.path.length > 1) {
      const color = view.path_near_hazard ? RISKY : SAFE;
      ctx.strokeStyle = color;
      ctx.lineWidth = 4;
      ctx.globalAlpha = 0.75;
      ctx.beginPath();
      view.path.forEach((s, i) => (i === 0 ? ctx.moveTo(cx(s), cy(s)) : ctx.lineTo(cx(s), cy(s))));
      ctx.stroke();
      ctx.globalAlpha = 1;
      ctx.fillStyle = color;
      for (const s of view.path) { ctx.beginPath(); ctx.arc(cx(s), cy(s), 3.5, 0, 2 * Math.PI); ctx.fill(); }
    }
    if (selected !== null && selected < L.rows * L.cols) {
      ctx.strokeStyle = '#f0a000';
      ctx.lineWidth = 4;
      ctx.strokeRect(ox + (selected % L.cols) * cell + 2, oy + Math.floor(selected / L.cols) * cell + 2, cell - 4, cell - 4);
    }
    return { cellAt: (px, py) => {
      const c = Math.floor((px - ox) / cell);
      const r = Math.floor((py - oy) / cell);
      return c >= 0 && c < L.cols && r >= 0 && r < L.rows ? r * L.cols + c : null;
    } };
  }

  /** Click and arrow keys on a grid canvas choose a cell. */
  function gridPicking(canvas, getInfo, getSelected, choose) {
    canvas.addEventListener('click', (ev) => {
      const g = canvas.gridGeometry;
      if (!g) return;
      const r = canvas.getBoundingClientRect();
      const s = g.cellAt(ev.clientX - r.left, ev.clientY - r.top);
      if (s !== null) choose(s);
    });
    canvas.addEventListener('keydown', (ev) => {
      const info = getInfo();
      const s = getSelected();
      if (!info || !info.layout || s === null) return;
      const { rows, cols } = info.layout;
      const [r, c] = [Math.floor(s / cols), s % cols];
      const next = { ArrowUp: [r - 1, c], ArrowDown: [r + 1, c], ArrowLeft: [r, c - 1], ArrowRight: [r, c + 1] }[ev.key];
      if (!next || s >= rows * cols) return;
      ev.preventDefault();
      const [nr, nc] = next;
      if (nr >= 0 && nr < rows && nc >= 0 && nc < cols) choose(nr * cols + nc);
    });
  }

  // ---- shared views ------------------------------------------------------------------------

  /**
   * One state at one β: β·Q* per action (the greedy one marked), and the real and posterior
   * dynamics of the greedy action, P(s'|s,a*) → q(s'|s,a*).
   */
  function stateView(info, view) {
    const s = view.state;
    const wrap = el('div', { class: 'state-view' });
    if (info.terminal[s]) {
      wrap.append(el('p', { text: `${info.states[s]} is terminal: its value is 0.` }));
      return wrap;
    }
    const g = view.greedy[s];
    wrap.append(el('p', {}, 'State ', el('b', { class: 'state-name', text: info.states[s] }), ': β·V*(s) = ',
      el('span', { class: 'mono state-v', text: full(view.certainty_equivalent[s]) }),
      '; expected return of the greedy policy ', el('span', { class: 'mono state-er', text: full(view.expected_return[s]) })));
    const q = el('table', { class: 'values q-table', 'aria-label': `Certainty equivalents at ${info.states[s]}` });
    q.append(el('thead', {}, el('tr', {}, el('th', { text: 'action a' }), el('th', { text: 'β·Q*(s, a)' }))));
    const qb = el('tbody');
    info.actions.forEach((a, i) => qb.append(el('tr', { class: i === g ? 'greedy' : '', 'data-action': a },
      el('td', { text: i === g ? `${a} (greedy)` : a }), el('td', { class: 'ceq', text: full(view.certainty_equivalent_q[s][i]) }))));
    q.append(qb);
    const moves = view.prior[g].map((p, j) => [j, p, view.posterior[g][j]]).filter(([, p]) => p > 0);
    const d = el('table', { class: 'values post-table', 'aria-label': `Dynamics of ${info.actions[g]} at ${info.states[s]}` });
    d.append(el('thead', {}, el('tr', {}, el('th', { text: 'next s\'' }), el('th', { text: `P(s'|s, ${info.actions[g]})` }),
      el('th', { text: `q(s'|s, ${info.actions[g]})` }))));
    const db = el('tbody');
    for (const [j, p, qq] of moves) {
      db.append(el('tr', { 'data-next': info.states[j] }, el('td', { text: info.states[j] }), el('td', { text: short(p) }),
        el('td', { class: 'q', text: full(qq) })));
    }
    d.append(db);
    wrap.append(el('div', { class: 'tables' }, q, d));
    return wrap;
  }

  function solverLine(view) {
    return `Solved at β = ${full(view.beta)} by value iteration: ${view.termination} after ${view.iterations} sweep(s), `
      + `certified error bound ${view.error_bound.toExponential(1)} (nats).`;
  }

  function switchText(info, sw) {
    return `greedy switches from \`${info.actions[sw.from]}\` to \`${info.actions[sw.to]}\` at β = ${sw.beta.toFixed(12)}`;
  }

  // ---- panel 1: the risky arm --------------------------------------------------------------

  function armPanel(engine) {
    const name = 'risky_arm.json';
    const h = engine.load($(`model-${name}`).textContent, name);
    const info = engine.info(h);
    const S = info.states.indexOf('S');
    const [LEFT, RIGHT] = [info.actions.indexOf('left'), info.actions.indexOf('right')];
    const [A, B, L] = ['A', 'B', 'L'].map((n) => info.states.indexOf(n));
    const marks = engine.riskyArmMarks();
    const sweep = engine.sweep(h, S);
    const xs = sweep.points.map((p) => p.beta);
    const regions = greedyRegions(sweep).map((r) => ({ ...r, color: tint(r.action === RIGHT ? RISKY : SAFE) }));
    const [sw] = sweep.switches;
    $('arm-switch').textContent = sw
      ? `${switchText(info, sw)} (bisection in log β); closed form 5/ln 9 = ${marks.switch_beta.toFixed(12)}. `
        + `Equal posterior mass on A and B at 10/ln 9 = ${marks.equal_posterior_beta.toFixed(12)}.`
      : 'no switch of the greedy action in this range';

    const update = (beta) => {
      const v = engine.solve(h, beta, S);
      const g = v.greedy[S];
      $('arm-ceq-left').textContent = full(v.certainty_equivalent_q[S][LEFT]);
      $('arm-ceq-right').textContent = full(v.certainty_equivalent_q[S][RIGHT]);
      const tag = el('span', { class: `tag ${g === RIGHT ? 'risky' : 'safe'}`, text: info.actions[g] });
      $('arm-greedy').replaceChildren(tag, g === RIGHT ? ' (the gamble)' : ' (the sure −5)');
      $('arm-qA').textContent = full(v.posterior[RIGHT][A]);
      $('arm-qB').textContent = full(v.posterior[RIGHT][B]);
      $('arm-v').textContent = full(v.certainty_equivalent[S]);
      $('arm-er').textContent = full(v.expected_return[S]);
      const vlines = [{ x: marks.switch_beta, color: '#333' }, { x: marks.equal_posterior_beta, color: '#777' }];
      drawChart($('arm-chart-q'), {
        title: 'Certainty equivalents at S',
        series: [
          { label: 'β·Q*(S, left)', color: SAFE, xs, ys: sweep.points.map((p) => p.certainty_equivalent[LEFT]) },
          { label: 'β·Q*(S, right)', color: RISKY, xs, ys: sweep.points.map((p) => p.certainty_equivalent[RIGHT]) },
        ],
        regions, vlines: vlines.slice(0, 1), cursor: beta,
        cursorPoints: [{ y: v.certainty_equivalent_q[S][LEFT], color: SAFE }, { y: v.certainty_equivalent_q[S][RIGHT], color: RISKY }],
      });
      drawChart($('arm-chart-post'), {
        title: 'Posterior dynamics of right',
        series: [
          { label: 'q(A | S, right)', color: RISKY, xs, ys: sweep.points.map((p) => p.posterior_dynamics[RIGHT][A]) },
          { label: 'q(B | S, right)', color: SAFE, xs, ys: sweep.points.map((p) => p.posterior_dynamics[RIGHT][B]), dash: [7, 4] },
        ],
        regions, vlines, cursor: beta, yRange: [0, 1],
        cursorPoints: [{ y: v.posterior[RIGHT][A], color: RISKY }, { y: v.posterior[RIGHT][B], color: SAFE }],
      });
      armDiagram(v, { S, A, B, L, LEFT, RIGHT });
    };
    const control = new BetaControl($('arm-beta'), 'arm', 1, update);
    control.setMarks([
      { beta: marks.switch_beta, label: `β* = 5/ln 9 ≈ ${short(marks.switch_beta)}`, main: true },
      { beta: marks.equal_posterior_beta, label: `10/ln 9 ≈ ${short(marks.equal_posterior_beta)}` },
    ]);
    update(control.beta);
    window.addEventListener('resize', () => update(control.beta));
    $('arm').dataset.state = 'ready';
    return control;
  }

  /** The risky arm as a picture: edge widths ∝ the posterior of `right`. */
  function armDiagram(v, ix) {
    const svg = $('arm-diagram');
    const NS = 'http://www.w3.org/2000/svg';
    const node = (x, y, label, sub) => {
      const g = document.createElementNS(NS, 'g');
      const c = document.createElementNS(NS, 'circle');
      c.setAttribute('cx', x); c.setAttribute('cy', y); c.setAttribute('r', 20);
      c.setAttribute('fill', '#fff'); c.setAttribute('stroke', '#333'); c.setAttribute('stroke-width', 2);
      const t = document.createElementNS(NS, 'text');
      t.setAttribute('x', x); t.setAttribute('y', y + 6); t.setAttribute('text-anchor', 'middle');
      t.setAttribute('font-size', 17); t.textContent = label;
      g.append(c, t);
      if (sub) {
        const s = document.createElementNS(NS, 'text');
        s.setAttribute('x', x); s.setAttribute('y', y + 38); s.setAttribute('text-anchor', 'middle');
        s.setAttribute('font-size', 13); s.textContent = sub;
        g.append(s);
      }
      return g;
    };
    const edge = (x1, y1, x2, y2, width, color, label, lx, ly) => {
      const g = document.createElementNS(NS, 'g');
      const l = document.createElementNS(NS, 'line');
      l.setAttribute('x1', x1); l.setAttribute('y1', y1); l.setAttribute('x2', x2); l.setAttribute('y2', y2);
      l.setAttribute('stroke', color); l.setAttribute('stroke-width', width); l.setAttribute('stroke-linecap', 'round');
      g.append(l);
      const t = document.createElementNS(NS, 'text');
      t.setAttribute('x', lx); t.setAttribute('y', ly); t.setAttribute('font-size', 13); t.setAttribute('fill', '#222');
      t.textContent = label;
      g.append(t);
      return g;
    };
    const qA = v.posterior[ix.RIGHT][ix.A];
    const qB = v.posterior[ix.RIGHT][ix.B];
    const right = v.greedy[ix.S] === ix.RIGHT;
    const label = (x, y, text, bold) => {
      const t = document.createElementNS(NS, 'text');
      t.setAttribute('x', x); t.setAttribute('y', y); t.setAttribute('font-size', 14);
      if (bold) t.setAttribute('font-weight', 'bold');
      t.textContent = text;
      return t;
    };
    const dot = document.createElementNS(NS, 'circle');
    dot.setAttribute('cx', 190); dot.setAttribute('cy', 150); dot.setAttribute('r', 6); dot.setAttribute('fill', '#333');
    svg.replaceChildren(
      edge(40, 120, 180, 40, right ? 2 : 7, right ? '#999' : SAFE, 'left', 80, 62),
      edge(40, 120, 190, 150, right ? 7 : 2, right ? RISKY : '#999', 'right', 95, 158),
      edge(190, 150, 300, 70, 1 + 14 * qA, '#555', '', 0, 0),
      edge(190, 150, 300, 190, 1 + 14 * qB, '#555', '', 0, 0),
      node(40, 120, 'S'), node(180, 40, 'L', ''), node(320, 70, 'A', ''), node(320, 190, 'B', ''), dot,
      label(206, 44, 'r = −5, end'),
      label(350, 62, 'P = 0.9'), label(350, 80, `q = ${short(qA)}`, true), label(298, 108, 'then r = −10'),
      label(350, 182, 'P = 0.1'), label(350, 200, `q = ${short(qB)}`, true), label(298, 228, 'then r = 0'),
    );
  }

  // ---- panel 2: the cliff gridworld --------------------------------------------------------

  function cliffPanel(engine) {
    const name = 'cliff_gridworld.json';
    const h = engine.load($(`model-${name}`).textContent, name);
    const info = engine.info(h);
    const canvas = $('cliff-grid');
    const select = $('cliff-state');
    info.states.forEach((s, i) => select.append(el('option', { value: i, text: s + (info.terminal[i] ? ' (terminal)' : '') })));
    let selected = info.initial_state ?? 0;
    let beta = 0.5;
    const update = () => {
      const t0 = performance.now();
      const v = engine.solve(h, beta, selected);
      canvas.gridGeometry = drawGrid(canvas, info, v, selected);
      const kind = v.path_near_hazard
        ? el('span', { class: 'tag risky', text: 'along the cliff (risky)' })
        : el('span', { class: 'tag safe', text: 'round the cliff (safe)' });
      $('cliff-path-kind').replaceChildren(kind, ` ${v.path.length} cells`);
      $('cliff-path').textContent = v.path.map((s) => info.states[s]).join(' → ');
      select.value = String(selected);
      $('cliff-state-view').replaceChildren(stateView(info, v));
      $('cliff-solver').textContent = solverLine(v);
      const ms = performance.now() - t0;
      $('cliff-timing').textContent = `Recomputed and redrawn in ${ms.toFixed(1)} ms.`;
      $('cliff').dataset.lastUpdateMs = ms.toFixed(3);
    };
    const control = new BetaControl($('cliff-beta'), 'cliff', beta, (b) => { beta = b; update(); });
    select.addEventListener('change', () => { selected = Number(select.value); update(); });
    gridPicking(canvas, () => info, () => selected, (s) => { selected = s; update(); });
    update();
    window.addEventListener('resize', update);
    // The β where the greedy path changes: computed once (about a second), then marked.
    $('cliff-switch').textContent = 'Locating the β where the greedy path changes…';
    return { control, finish: () => {
      const switches = engine.pathSwitches(h);
      const leaves = switches.filter((s) => s.below_near_hazard && !s.above_near_hazard);
      control.setMarks(switches.map((s) => ({
        beta: s.beta,
        label: s.below_near_hazard && !s.above_near_hazard ? `leaves the cliff: ${short(s.beta)}` : short(s.beta),
        main: s.below_near_hazard && !s.above_near_hazard,
      })));
      if (leaves.length > 0) $('cliff-switch-note').textContent = leaves[0].beta.toFixed(4);
      $('cliff-switch').textContent = switches.length === 0 ? 'The greedy path does not change between β = 0.01 and 1000.'
        : `The greedy path from S changes at β = ${switches.map((s) => s.beta.toFixed(6)).join(', ')}`
          + ` (bisection in log β)${leaves.length ? `; it leaves the cliff at β = ${leaves[0].beta.toFixed(6)}` : ''}.`;
      $('cliff').dataset.state = 'ready';
    } };
  }

  // ---- panel 3: your own MDP ---------------------------------------------------------------

  function ownPanel(engine) {
    const text = $('own-text');
    const error = $('own-error');
    const analysis = $('own-analysis');
    const stateSelect = $('own-state');
    const actionSelect = $('own-action');
    let model = null; // { h, info, state, action, sweep, beta, name }
    let control = null;

    const fail = (line) => {
      error.textContent = line;
      analysis.hidden = true;
      $('own').dataset.state = 'error';
    };

    const drawCharts = (v) => {
      const { info, sweep } = model;
      const xs = sweep.points.map((p) => p.beta);
      const regions = greedyRegions(sweep).map((r) => ({ ...r, color: tint(PALETTE[r.action % PALETTE.length], 0.16) }));
      const vlines = sweep.switches.map((s) => ({ x: s.beta }));
      const s = model.state;
      drawChart($('own-chart-q'), {
        title: `Certainty equivalents at ${info.states[s]}`,
        series: info.actions.map((a, i) => ({
          label: `β·Q*(${info.states[s]}, ${a})`, color: PALETTE[i % PALETTE.length], xs,
          ys: sweep.points.map((p) => p.certainty_equivalent[i]),
        })),
        regions, vlines, cursor: v.beta,
        cursorPoints: info.actions.map((_, i) => ({ y: v.certainty_equivalent_q[s][i], color: PALETTE[i % PALETTE.length] })),
      });
      const a = model.action;
      const support = sweep.support.filter(([b]) => b === a).map(([, j]) => j);
      const biggest = support
        .map((j) => [j, Math.max(...sweep.points.map((p) => p.posterior_dynamics[a][j]))])
        .sort((x, y) => y[1] - x[1]).slice(0, MAX_CURVES).map(([j]) => j).sort((x, y) => x - y);
      drawChart($('own-chart-post'), {
        title: `Posterior dynamics of ${info.actions[a]} at ${info.states[s]}`
          + (support.length > biggest.length ? ` (${biggest.length} of ${support.length} next states)` : ''),
        series: biggest.map((j, k) => ({
          label: `q(${info.states[j]} | ${info.actions[a]})`, color: PALETTE[k % PALETTE.length], xs,
          ys: sweep.points.map((p) => p.posterior_dynamics[a][j]), dash: k % 2 ? [7, 4] : [],
        })),
        regions, vlines, cursor: v.beta, yRange: [0, 1],
        cursorPoints: biggest.map((j, k) => ({ y: v.posterior[a][j], color: PALETTE[k % PALETTE.length] })),
      });
    };

    const table = (v) => {
      const { info } = model;
      const t = el('table', { class: 'values', 'aria-label': 'The optimum at every state' });
      const head = el('tr', {}, el('th', { text: 'state' }), el('th', { text: 'β·V*' }), el('th', { text: 'greedy' }));
      for (const a of info.actions) head.append(el('th', { text: `β·Q*(${a})` }));
      t.append(el('thead', {}, head));
      const body = el('tbody');
      const n = Math.min(info.states.length, MAX_TABLE_ROWS);
      for (let s = 0; s < n; s++) {
        const tr = el('tr', { 'data-state': info.states[s] }, el('td', { text: info.states[s] }));
        if (info.terminal[s]) {
          tr.append(el('td', { text: '0' }), el('td', { text: '(terminal)' }));
          for (let i = 0; i < info.actions.length; i++) tr.append(el('td'));
        } else {
          tr.append(el('td', { text: full(v.certainty_equivalent[s]) }), el('td', { text: info.actions[v.greedy[s]] }));
          for (const q of v.certainty_equivalent_q[s]) tr.append(el('td', { text: full(q) }));
        }
        body.append(tr);
      }
      t.append(body);
      const wrap = el('div', {}, el('h3', { text: `The solution at β = ${full(v.beta)}` }), t);
      if (info.states.length > n) {
        wrap.append(el('p', { class: 'small', text: `… and ${info.states.length - n} more states (all of them: riskmdp solve FILE --beta ${full(v.beta)} --json).` }));
      }
      return wrap;
    };

    const update = () => {
      if (!model) return;
      const t0 = performance.now();
      let v;
      try {
        v = engine.solve(model.h, model.beta, model.state);
      } catch (e) {
        if (!(e instanceof EngineError)) throw e;
        $('own-state-view').replaceChildren(el('p', { class: 'error', text: e.message }));
        return;
      }
      drawCharts(v);
      $('own-state-view').replaceChildren(stateView(model.info, v));
      $('own-solver').textContent = solverLine(v);
      $('own-table').replaceChildren(table(v));
      if (model.info.layout) {
        $('own-grid').gridGeometry = drawGrid($('own-grid'), model.info, v, model.state);
      }
      $('own').dataset.lastUpdateMs = (performance.now() - t0).toFixed(3);
    };

    /** The sweep at the chosen state: once per model and state. */
    const analyse = () => {
      const { info } = model;
      $('own').dataset.state = 'computing';
      $('own-switches').replaceChildren(el('li', { text: `Sweeping β at ${info.states[model.state]}…` }));
      // Let the browser paint the line before the sweep blocks the page for a moment.
      setTimeout(() => {
        try {
          model.sweep = engine.sweep(model.h, model.state);
        } catch (e) {
          if (!(e instanceof EngineError)) throw e;
          fail(e.message);
          return;
        }
        // The posterior chart starts with the action that has the most next states.
        const counts = info.actions.map((_, a) => model.sweep.support.filter(([b]) => b === a).length);
        model.action = counts.indexOf(Math.max(...counts));
        actionSelect.value = String(model.action);
        const sws = model.sweep.switches;
        $('own-switches').replaceChildren(...(sws.length === 0
          ? [el('li', { text: 'no switch of the greedy action in this range' })]
          : sws.map((s) => el('li', { class: 'mono', text: switchText(info, s) }))));
        control.setMarks(sws.map((s) => ({ beta: s.beta, label: `${info.actions[s.from]}→${info.actions[s.to]}: ${short(s.beta)}`, main: true })));
        update();
        $('own').dataset.state = 'ready';
      }, 0);
    };

    const chooseState = (s) => {
      model.state = s;
      stateSelect.value = String(s);
      actionSelect.replaceChildren(...model.info.actions.map((a, i) => el('option', { value: i, text: a })));
      model.action = 0;
      analyse();
    };

    const open = (source, name) => {
      error.textContent = '';
      $('own-summary').textContent = '';
      if (model) { engine.drop(model.h); model = null; }
      let h;
      try {
        h = engine.load(source, name);
      } catch (e) {
        if (!(e instanceof EngineError)) throw e;
        fail(e.message);
        return;
      }
      const info = engine.info(h);
      // One solve, timed: a model that the engine accepts can still be too slow to sweep here.
      const t0 = performance.now();
      try {
        engine.solve(h, 1, 0);
      } catch (e) {
        if (!(e instanceof EngineError)) throw e;
      }
      const ms = performance.now() - t0;
      if (ms > SOLVE_BUDGET_MS) {
        engine.drop(h);
        fail(`error: one solve of \`${info.name}\` takes ${Math.round(ms)} ms here, so the page's β sweep (about 150 solves) `
          + `would hold the page for minutes: run \`riskmdp sweep ${name}\` on it instead`);
        return;
      }
      model = { h, info, name, beta: control ? control.beta : 1, state: 0, action: 0, sweep: null };
      const nonTerminal = info.states.map((_, i) => i).filter((i) => !info.terminal[i]);
      $('own-summary').textContent = `\`${info.name}\` (${name}): ${info.states.length} states, ${info.actions.length} actions, `
        + `γ = ${info.gamma}, ${info.horizon === null ? 'no horizon' : `horizon ${info.horizon}`}`
        + (info.initial_state === null ? '' : `; initial state ${info.states[info.initial_state]}`) + '.';
      stateSelect.replaceChildren(...info.states.map((s, i) => el('option', { value: i, text: s + (info.terminal[i] ? ' (terminal)' : '') })));
      $('own-grid-row').hidden = !info.layout;
      analysis.hidden = false;
      if (!control) control = new BetaControl($('own-beta'), 'own', model.beta, (b) => { model.beta = b; update(); });
      const first = info.initial_state !== null && !info.terminal[info.initial_state] ? info.initial_state : (nonTerminal[0] ?? 0);
      chooseState(first);
    };

    stateSelect.addEventListener('change', () => chooseState(Number(stateSelect.value)));
    actionSelect.addEventListener('change', () => { model.action = Number(actionSelect.value); update(); });
    gridPicking($('own-grid'), () => model && model.info, () => (model ? model.state : null), (s) => chooseState(s));
    $('own-run').addEventListener('click', () => open(text.value, 'pasted.json'));
    $('own-file').addEventListener('change', () => {
      const file = $('own-file').files[0];
      if (!file) return;
      file.text().then((source) => { text.value = source; open(source, file.name); });
    });
    // A model file dropped on the text box is read like a loaded one.
    text.addEventListener('dragover', (ev) => ev.preventDefault());
    text.addEventListener('drop', (ev) => {
      const file = ev.dataTransfer.files[0];
      if (!file) return;
      ev.preventDefault();
      file.text().then((source) => { text.value = source; open(source, file.name); });
    });
    for (const b of document.querySelectorAll('[data-example]')) {
      b.addEventListener('click', () => {
        const name = b.dataset.example;
        text.value = $(`model-${name}`).textContent.trim();
        open(text.value, name);
      });
    }
    window.addEventListener('resize', update);
    // Start with a model on show, ready to edit: a coin flip.
    text.value = $('model-coin_flip.json').textContent.trim();
    open(text.value, 'coin_flip.json');
  }

  // ---- start -------------------------------------------------------------------------------

  async function main() {
    $('generator').textContent = document.querySelector('meta[name=generator]').content;
    $('large-text').addEventListener('click', (ev) => {
      const on = document.body.classList.toggle('large');
      ev.currentTarget.setAttribute('aria-pressed', String(on));
      window.dispatchEvent(new Event('resize'));
    });
    const status = $('status');
    // The engine never panics on a model (the library checks input once, at loading); should
    // it ever trap, say so instead of leaving stale numbers on screen.
    window.addEventListener('error', (ev) => {
      status.textContent = `Internal error: ${ev.message}. Reload the page; please report the model that caused it.`;
      status.classList.add('bad');
    });
    let engine;
    try {
      engine = await Engine.start();
    } catch (e) {
      status.textContent = `The engine did not start: ${e.message}`;
      status.classList.add('bad');
      throw e;
    }
    armPanel(engine);
    const cliff = cliffPanel(engine);
    ownPanel(engine);
    status.textContent = 'Locating switch points…';
    setTimeout(() => {
      cliff.finish();
      status.textContent = 'Ready: every number below is computed by the riskmdp engine in this page.';
      document.body.dataset.ready = 'true';
    }, 0);
  }
  main();
})();
