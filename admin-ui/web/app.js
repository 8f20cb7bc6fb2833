// The console app: one websocket, one view at a time (the hash names it), charts fed by
// history on open and by the console's tick after that. Nothing here polls: the console
// pushes a view when it changes and a tick every survey round.
'use strict';

// h('div', {class: 'x', dataset: {a: 1}, onclick: f}, child, 'text', ...): an element.
// Text is always set as text, never parsed as HTML.
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else if (k === 'style') el.style.cssText = v; // CSSOM: allowed under the page's CSP
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const App = {
  ws: null,
  me: null,
  view: null,       // the open view's name
  viewState: null,  // what its module keeps
  data: null,       // its latest data
  charts: new Map(), // id -> {chart, series: [{key, get}]}
  nextId: 1,
  pending: new Map(), // request id -> {resolve, reject}
  t: 0,
  backoff: 500,

  connect() {
    const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws';
    const ws = new WebSocket(url, 'strait-console');
    this.ws = ws;
    this.setConn('connecting', 'connecting…');
    ws.onopen = () => { this.backoff = 500; };
    ws.onmessage = (ev) => this.onMessage(JSON.parse(ev.data));
    ws.onclose = (ev) => {
      if (this.loggingOut) return; // the logout button navigates
      this.setConn('down', 'disconnected' + (ev.reason ? ': ' + ev.reason : ''));
      for (const p of this.pending.values()) p.reject(new Error('the connection closed'));
      this.pending.clear();
      if (ev.reason === 'logged out' || ev.reason.startsWith('session ended')) {
        location.assign('/login');
        return;
      }
      // The session may be gone (console restarted): check before reconnecting.
      fetch('/api/session', { credentials: 'same-origin' }).then((r) => {
        if (r.status === 401) location.assign('/login');
        else setTimeout(() => this.connect(), this.backoff = Math.min(this.backoff * 2, 8000));
      }, () => setTimeout(() => this.connect(), this.backoff = Math.min(this.backoff * 2, 8000)));
    };
  },

  setConn(state, text) {
    const el = document.getElementById('conn');
    el.dataset.state = state;
    el.textContent = text;
  },

  send(msg) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
  },

  request(msg) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.send(Object.assign({ id }, msg));
    });
  },

  // Runs an action on a daemon; resolves with its result, rejects with its error.
  action(action, target, args) {
    return this.request({ type: 'action', action, target, args: args || {} }).then((m) => {
      if (!m.ok) throw new Error(m.error);
      return m.result;
    });
  },

  can(action) { return this.me && this.me.actions.includes(action); },

  onMessage(m) {
    switch (m.type) {
      case 'hello':
        this.me = m;
        this.t = m.t;
        this.setConn('up', 'live');
        document.getElementById('whoami').textContent = m.user + ' (' + m.role + (m.tenant ? ' of ' + m.tenant : '') + ')';
        this.buildNav();
        this.open(location.hash.slice(1) || m.views[0]);
        break;
      case 'view':
        if (m.view !== this.view) break;
        this.t = m.t;
        this.data = m.data;
        Views[this.view].update(this, this.viewState, m.data);
        this.syncCharts();
        break;
      case 'tick':
        this.t = m.t;
        this.tick(m.t);
        break;
      case 'history':
      case 'result': {
        const p = this.pending.get(m.id);
        if (p) { this.pending.delete(m.id); p.resolve(m); }
        break;
      }
      case 'error':
        if (m.id && this.pending.has(m.id)) {
          this.pending.get(m.id).reject(new Error(m.error));
          this.pending.delete(m.id);
        } else toast(m.error, true);
        break;
    }
  },

  buildNav() {
    const labels = { estate: 'Estate', topics: 'Topics', groups: 'Consumer groups', tenants: 'Tenants', quotas: 'Quotas', acls: 'ACLs', mirroring: 'Mirroring', audit: 'Audit' };
    document.getElementById('nav').replaceChildren(...this.me.views.map((v) =>
      h('a', { href: '#' + v, id: 'nav-' + v, dataset: { view: v } }, labels[v] || v)));
  },

  open(view) {
    if (!this.me.views.includes(view)) view = this.me.views[0];
    if (this.view) this.send({ type: 'unsubscribe', view: this.view });
    this.view = view;
    this.data = null;
    for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.view === view);
    const main = document.getElementById('main');
    main.replaceChildren();
    main.dataset.view = view;
    this.charts.clear();
    this.viewState = Views[view].build(this, main);
    this.send({ type: 'subscribe', view });
  },

  // Makes the open view's charts match what it asks for now; new ones get their history.
  syncCharts() {
    const wanted = Views[this.view].charts ? Views[this.view].charts(this, this.viewState, this.data) : [];
    const box = this.viewState.chartBox;
    if (!box) return;
    const ids = new Set(wanted.map((c) => c.id));
    for (const [id, entry] of this.charts) if (!ids.has(id)) { entry.chart.el.remove(); this.charts.delete(id); }
    const fresh = [];
    for (const w of wanted) {
      let entry = this.charts.get(w.id);
      if (!entry) {
        entry = { chart: new Chart(w.id, w.title, w.series, w.unit), series: w.series };
        this.charts.set(w.id, entry);
        fresh.push(entry);
      }
      entry.series = w.series; // getters see the newest data
      box.append(entry.chart.el);
    }
    for (const entry of fresh) {
      entry.chart.draw();
      this.request({ type: 'history', series: entry.series.map((s) => s.key) }).then((m) => {
        for (const [key, values] of Object.entries(m.series || {})) entry.chart.setHistory(key, m.end, values);
      }, () => {});
    }
  },

  tick(t) {
    for (const entry of this.charts.values()) {
      for (const s of entry.series) {
        const v = this.data ? s.get(this.data) : null;
        if (v !== null && v !== undefined && !Number.isNaN(v)) entry.chart.push(t, s.key, v);
      }
      entry.chart.draw();
    }
  },
};

function toast(text, isError) {
  const el = h('div', { class: 'toast' + (isError ? ' error' : ''), role: isError ? 'alert' : 'status' }, text);
  document.getElementById('toasts').append(el);
  setTimeout(() => el.remove(), isError ? 9000 : 4000);
}

// A modal: title, body nodes, buttons [{label, value, class}]; resolves with the value.
function modal(title, body, buttons) {
  const dlg = document.getElementById('dialog');
  const form = document.getElementById('dialog-form');
  form.replaceChildren(h('h2', {}, title), ...[].concat(body),
    h('menu', {}, ...buttons.map((b) => h('button', { value: b.value, class: b.class, id: 'dialog-' + b.value }, b.label))));
  return new Promise((resolve) => {
    dlg.onclose = () => resolve(dlg.returnValue);
    dlg.returnValue = '';
    dlg.showModal();
  });
}

window.addEventListener('hashchange', () => { if (App.me) App.open(location.hash.slice(1)); });
document.getElementById('logout').addEventListener('click', async () => {
  App.loggingOut = true;
  await fetch('/logout', { method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json' }, body: '{}' });
  location.assign('/login');
});
App.connect();
