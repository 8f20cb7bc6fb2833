// The eight views. Each has build(app, root) → state (the parts that stay: forms, the
// chart box), update(app, state, data) (re-renders the tables from the pushed data) and
// optionally charts(app, state, data) → [{id, title, unit, series: [{key, label, get}]}].
// Everything shown is set as text (names come from clients: never parsed as HTML).
'use strict';

const Views = {};

const fmtBytes = (v) => fmtNumber(v, 'B');
const fmtRate = (v) => fmtNumber(v, 'B/s');

function fmtAge(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return s + ' s';
  if (s < 7200) return Math.round(s / 60) + ' min';
  if (s < 172800) return Math.round(s / 3600) + ' h';
  return Math.round(s / 86400) + ' d';
}

function table(headers, rows, attrs) {
  return h('table', attrs || {},
    h('thead', {}, h('tr', {}, ...headers.map((x) => h('th', {}, x)))),
    h('tbody', {}, ...rows));
}

function badge(up, text) {
  return h('span', { class: 'badge ' + (up ? 'up' : 'down') }, text || (up ? 'up' : 'down'));
}

function daemonHeader(d) {
  return h('h3', { class: 'daemon', dataset: { daemon: d.id, up: String(d.up) } },
    d.id, ' ', badge(d.up), d.up ? '' : h('span', { class: 'why' }, ' ' + d.why),
    d.error ? h('span', { class: 'why' }, ' ' + d.error) : '');
}

// A form of labelled inputs; fields: [{name, label, type?, options?, value?, placeholder?}].
function form(id, title, fields, submitLabel, onSubmit) {
  const inputs = {};
  const els = fields.map((f) => {
    let input;
    if (f.options) {
      input = h('select', { name: f.name, id: id + '-' + f.name });
      setOptions(input, f.options);
    } else if (f.type === 'textarea') {
      input = h('textarea', { name: f.name, id: id + '-' + f.name, rows: 3, placeholder: f.placeholder });
    } else if (f.type === 'checkbox') {
      input = h('input', { type: 'checkbox', name: f.name, id: id + '-' + f.name });
    } else {
      input = h('input', { name: f.name, id: id + '-' + f.name, type: f.type || 'text', placeholder: f.placeholder });
      if (f.value !== undefined) input.value = f.value;
    }
    inputs[f.name] = input;
    return h('label', {}, f.label, ' ', input);
  });
  const button = h('button', { type: 'submit', id: id + '-submit' }, submitLabel);
  const el = h('form', { class: 'action-form', id, onsubmit: async (ev) => {
    ev.preventDefault();
    const values = {};
    for (const [k, input] of Object.entries(inputs)) values[k] = input.type === 'checkbox' ? input.checked : input.value.trim();
    button.disabled = true;
    try { await onSubmit(values, inputs); } catch (e) { toast(e.message, true); } finally { button.disabled = false; }
  } }, h('h4', {}, title), ...els, button);
  el.inputs = inputs;
  return el;
}

function setOptions(select, options) {
  const keep = select.value;
  select.replaceChildren(...options.map((o) => h('option', { value: o.value ?? o }, o.label ?? o)));
  if (options.some((o) => (o.value ?? o) === keep)) select.value = keep;
}

// k=v lines → {k: v}
function parseConfigs(text) {
  const out = {};
  for (const line of text.split('\n').map((l) => l.trim()).filter(Boolean)) {
    const eq = line.indexOf('=');
    if (eq < 1) throw new Error('config line "' + line + '": expected name=value');
    out[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return out;
}

function brokerOptions(data) {
  return (data && data.brokers ? data.brokers : []).filter((b) => b.up).map((b) => b.id);
}

async function confirmTyped(title, text, expected) {
  const input = h('input', { id: 'dialog-typed', autocomplete: 'off' });
  const r = await modal(title, [h('p', {}, text), h('label', {}, 'Type ', h('code', {}, expected), ' to confirm: ', input)],
    [{ label: 'Cancel', value: 'cancel' }, { label: 'Delete', value: 'ok', class: 'danger' }]);
  return r === 'ok' && input.value === expected;
}

function done(what) { return (r) => { toast(what + ': done'); return r; }; }

/* ---------------- estate ---------------- */

const SVG = 'http://www.w3.org/2000/svg';
function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined) el.setAttribute(k, v);
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

function drawEstate(data) {
  const clusters = data.clusters.map((c) => ({ name: c.name, brokers: c.brokers, mirrors: c.mirrors, phantom: false }));
  const flows = [];
  for (const c of data.clusters) for (const m of c.mirrors) for (const f of m.flows || []) flows.push(Object.assign({ mirror: m }, f));
  for (const f of flows) for (const alias of [f.source, f.target])
    if (alias && !clusters.some((c) => c.name === alias)) clusters.push({ name: alias, brokers: [], mirrors: [], phantom: true });
  const boxW = 280, gap = 200, pad = 20;
  const heights = clusters.map((c) => 40 + c.brokers.length * 44 + c.mirrors.length * 24 + 10);
  const boxH = Math.max(120, ...heights);
  const width = pad * 2 + clusters.length * boxW + (clusters.length - 1) * gap;
  const height = boxH + 2 * pad + 60;
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, width, height, class: 'estate', role: 'img' });
  svg.append(s('defs', {}, s('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' },
    s('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#555' }))));
  const x0 = (i) => pad + i * (boxW + gap);
  clusters.forEach((c, i) => {
    const g = s('g', { class: 'cluster' + (c.phantom ? ' phantom' : ''), 'data-cluster': c.name });
    g.append(s('rect', { x: x0(i), y: pad, width: boxW, height: boxH, rx: 8 }));
    g.append(s('text', { x: x0(i) + 12, y: pad + 24, class: 'cluster-name' }, c.name + (c.phantom ? ' (not in the console config)' : '')));
    let y = pad + 44;
    for (const b of c.brokers) {
      const bg = s('g', { class: 'broker ' + (b.up ? 'up' : 'down'), 'data-broker': b.id, 'data-up': String(b.up) });
      bg.append(s('circle', { cx: x0(i) + 18, cy: y + 6, r: 6 }));
      bg.append(s('text', { x: x0(i) + 30, y: y + 10, class: 'broker-name' }, b.name + (b.up ? '' : ' — down')));
      bg.append(s('text', { x: x0(i) + 30, y: y + 28, class: 'small' }, b.up
        ? `up ${fmtAge((b.uptime_s || 0) * 1000)} · ${b.connections ?? 0} conn · in ${fmtRate(b.bytes_in_rate)} · out ${fmtRate(b.bytes_out_rate)}`
        : b.why));
      g.append(bg);
      y += 44;
    }
    for (const m of c.mirrors) {
      const mg = s('g', { class: 'mirror ' + (m.up ? 'up' : 'down'), 'data-mirror': m.id });
      mg.append(s('rect', { x: x0(i) + 12, y: y, width: 12, height: 12, rx: 2 }));
      mg.append(s('text', { x: x0(i) + 30, y: y + 11, class: 'small' }, 'mirror ' + m.name + (m.up ? '' : ' — down')));
      g.append(mg);
      y += 24;
    }
    svg.append(g);
  });
  const index = (name) => clusters.findIndex((c) => c.name === name);
  const pairs = new Map();
  for (const f of flows) {
    const a = index(f.source), b = index(f.target);
    if (a < 0 || b < 0 || a === b) continue;
    const key = Math.min(a, b) + '-' + Math.max(a, b);
    const n = pairs.get(key) || 0;
    pairs.set(key, n + 1);
    const dir = a < b ? 1 : -1;
    const y = pad + boxH / 2 + (n % 2 ? 28 : -20) + Math.floor(n / 2) * 56;
    const xa = dir > 0 ? x0(a) + boxW : x0(a), xb = dir > 0 ? x0(b) : x0(b) + boxW;
    const running = f.state === 'running';
    const g = s('g', { class: 'flow ' + (running ? 'running' : 'stopped'), 'data-flow': f.flow });
    g.append(s('line', { x1: xa, y1: y, x2: xb, y2: y, 'marker-end': 'url(#arrow)' }));
    const mid = (xa + xb) / 2;
    g.append(s('text', { x: mid, y: y - 6, 'text-anchor': 'middle', class: 'small' },
      `${f.flow} · ${f.state || '?'}`));
    g.append(s('text', { x: mid, y: y + 14, 'text-anchor': 'middle', class: 'small' },
      `${fmtNumber(f.records_per_sec)} rec/s · lag ${fmtNumber(f.lag_records)}` + (f.latency_p99 !== null && f.latency_p99 !== undefined ? ` · p99 ${Math.round(f.latency_p99)} ms` : '')));
    svg.append(g);
  }
  return svg;
}

Views.estate = {
  build(app, root) {
    const st = { picture: h('div', { class: 'estate-picture', id: 'estate-picture' }), list: h('div', { id: 'estate-list' }), chartBox: h('div', { class: 'charts' }) };
    root.append(h('h2', {}, 'Estate'), st.picture, st.chartBox, st.list);
    return st;
  },
  update(app, st, data) {
    st.picture.replaceChildren(drawEstate(data));
    const rows = [];
    for (const c of data.clusters) {
      for (const b of c.brokers) rows.push(h('tr', { dataset: { broker: b.id, up: String(b.up) } },
        h('td', {}, c.name), h('td', {}, 'broker ' + b.name), h('td', {}, badge(b.up)),
        h('td', {}, b.up ? fmtAge((b.uptime_s || 0) * 1000) : b.why), h('td', {}, b.up ? String(b.connections ?? '') : ''),
        h('td', {}, b.up ? fmtRate(b.bytes_in_rate) : ''), h('td', {}, b.up ? fmtRate(b.bytes_out_rate) : ''),
        h('td', {}, b.up ? `${b.topics} topics, ${b.partitions} partitions` : '')));
      for (const m of c.mirrors) rows.push(h('tr', { dataset: { mirror: m.id, up: String(m.up) } },
        h('td', {}, c.name), h('td', {}, 'mirror ' + m.name), h('td', {}, badge(m.up)),
        h('td', {}, m.up ? fmtAge(m.uptime_ms || 0) : m.why), h('td', {}, ''),
        h('td', { colspan: 3 }, (m.flows || []).map((f) => `${f.flow} ${f.state}`).join(', '))));
    }
    st.list.replaceChildren(table(['cluster', 'daemon', 'state', 'uptime', 'connections', 'in', 'out', ''], rows, { id: 'estate-table' }));
  },
  charts(app, st, data) {
    const brokers = data.clusters.flatMap((c) => c.brokers);
    const flows = data.clusters.flatMap((c) => c.mirrors.flatMap((m) => (m.flows || []).map((f) => ({ m, f }))));
    const out = [];
    if (brokers.length) out.push({ id: 'estate-bytes', title: 'Broker traffic', unit: 'B/s', series: brokers.slice(0, 3).flatMap((b) => [
      { key: `broker|${b.id}|-|bytes_in`, label: b.id + ' in', get: (d) => findBroker(d, b.id)?.bytes_in_rate },
      { key: `broker|${b.id}|-|bytes_out`, label: b.id + ' out', get: (d) => findBroker(d, b.id)?.bytes_out_rate }]) });
    if (flows.length) out.push({ id: 'estate-flows', title: 'Mirror flows (records/s)', unit: '', series: flows.slice(0, 6).map(({ m, f }) => (
      { key: `flow|${m.id}|${f.flow}|records`, label: f.flow, get: (d) => findFlow(d, m.id, f.flow)?.records_per_sec }))});
    return out;
  },
};

function findBroker(d, id) { for (const c of d.clusters || []) for (const b of c.brokers) if (b.id === id) return b; return null; }
function findFlow(d, mid, name) {
  for (const c of d.clusters || []) for (const m of c.mirrors) if (m.id === mid) return (m.flows || []).find((f) => f.flow === name);
  return null;
}

/* ---------------- topics ---------------- */

Views.topics = {
  build(app, root) {
    const st = { chartBox: h('div', { class: 'charts' }), list: h('div', { id: 'topics-list' }), selected: null };
    root.append(h('h2', {}, 'Topics and partitions'));
    if (app.can('topics.create')) {
      st.create = form('topic-create', 'Create a topic', [
        { name: 'broker', label: 'Broker', options: [] },
        { name: 'name', label: 'Name' },
        { name: 'partitions', label: 'Partitions', type: 'number', value: '1' },
        { name: 'configs', label: 'Configs (name=value per line)', type: 'textarea', placeholder: 'retention.ms=86400000' },
      ], 'Create', async (v) => {
        const partitions = parseInt(v.partitions, 10);
        if (!v.name) throw new Error('a topic needs a name');
        if (!(partitions >= 1)) throw new Error('partitions must be a whole number of at least 1');
        await app.action('topics.create', v.broker, { name: v.name, partitions, configs: parseConfigs(v.configs) }).then(done('topic ' + v.name + ' created'));
      });
      root.append(st.create);
    }
    root.append(st.chartBox, st.list);
    return st;
  },
  update(app, st, data) {
    if (st.create) setOptions(st.create.inputs.broker, brokerOptions(data));
    const sections = data.brokers.map((b) => {
      const rows = (b.topics || []).map((t) => {
        const start = t.partitions.reduce((a, p) => a + p.start_offset, 0);
        const end = t.partitions.reduce((a, p) => a + p.end_offset, 0);
        const sel = st.selected && st.selected.broker === b.id && st.selected.topic === t.name;
        const actions = h('td', { class: 'actions' },
          h('button', { type: 'button', onclick: (ev) => { ev.stopPropagation(); describeTopic(app, b.id, t.name); } }, 'Configs'),
          app.can('topics.alter') ? h('button', { type: 'button', onclick: (ev) => { ev.stopPropagation(); alterTopic(app, b.id, t); } }, 'Alter') : '',
          app.can('topics.delete') ? h('button', { type: 'button', class: 'danger', dataset: { deleteTopic: t.name }, onclick: async (ev) => {
            ev.stopPropagation();
            if (await confirmTyped('Delete topic ' + t.name, 'This deletes the topic and all its data on ' + b.id + '.', t.name))
              app.action('topics.delete', b.id, { name: t.name }).then(done('topic ' + t.name + ' deleted'), (e) => toast(e.message, true));
          } }, 'Delete') : '');
        return h('tr', { class: sel ? 'selected' : '', dataset: { topic: t.name, broker: b.id }, onclick: () => { st.selected = { broker: b.id, topic: t.name }; app.syncCharts(); Views.topics.update(app, st, app.data); } },
          h('td', {}, t.name), h('td', { dataset: { field: 'partitions' } }, String(t.partitions.length)),
          h('td', { dataset: { field: 'size' } }, fmtBytes(t.size_bytes)),
          h('td', { dataset: { field: 'start_offset' } }, String(start)), h('td', { dataset: { field: 'end_offset' } }, String(end)),
          h('td', { dataset: { field: 'bytes_in_rate' } }, fmtRate(t.bytes_in_rate)),
          h('td', { dataset: { field: 'bytes_out_rate' } }, fmtRate(t.bytes_out_rate)),
          h('td', { dataset: { field: 'records_rate' } }, String(t.records_rate)), actions);
      });
      return h('section', { dataset: { broker: b.id } }, daemonHeader(b),
        table(['topic', 'partitions', 'size', 'start', 'end offset', 'produce', 'fetch', 'records/s', ''], rows, { class: 'topics' }));
    });
    st.list.replaceChildren(...sections);
  },
  charts(app, st, data) {
    if (!st.selected) {
      for (const b of data.brokers) for (const t of b.topics || []) if (!t.internal) { st.selected = { broker: b.id, topic: t.name }; break; }
      if (!st.selected) return [];
    }
    const { broker, topic } = st.selected;
    const find = (d) => { const b = d.brokers.find((x) => x.id === broker); return b && (b.topics || []).find((t) => t.name === topic); };
    return [
      { id: 'topic-bytes-' + broker + '-' + topic, title: topic + ' on ' + broker + ': produce and fetch', unit: 'B/s', series: [
        { key: `topic|${broker}|${topic}|bytes_in`, label: 'produce', get: (d) => find(d)?.bytes_in_rate },
        { key: `topic|${broker}|${topic}|bytes_out`, label: 'fetch', get: (d) => find(d)?.bytes_out_rate }] },
      { id: 'topic-records-' + broker + '-' + topic, title: topic + ': records per second', unit: '', series: [
        { key: `topic|${broker}|${topic}|records`, label: 'records/s', get: (d) => find(d)?.records_rate }] },
    ];
  },
};

async function describeTopic(app, broker, name) {
  try {
    const r = await app.action('topics.describe', broker, { name });
    const parts = table(['partition', 'start', 'end', 'size', 'segments'], r.partitions.map((p) =>
      h('tr', {}, h('td', {}, String(p.partition)), h('td', {}, String(p.start_offset)), h('td', {}, String(p.end_offset)), h('td', {}, fmtBytes(p.size_bytes)), h('td', {}, String(p.segments)))));
    const configs = table(['config', 'value', ''], r.configs.map((c) =>
      h('tr', { class: c.default ? 'default' : '' }, h('td', {}, c.name), h('td', {}, c.value ?? '(sensitive)'), h('td', {}, c.default ? 'default' : 'set'))));
    await modal('Topic ' + name + ' on ' + broker, [parts, configs], [{ label: 'Close', value: 'close' }]);
  } catch (e) { toast(e.message, true); }
}

async function alterTopic(app, broker, t) {
  const set = h('textarea', { id: 'alter-set', rows: 3, placeholder: 'retention.ms=3600000' });
  const del = h('input', { id: 'alter-delete', placeholder: 'cleanup.policy, retention.bytes' });
  const parts = h('input', { id: 'alter-partitions', type: 'number', placeholder: String(t.partitions.length) });
  const r = await modal('Alter ' + t.name, [
    h('label', {}, 'Set (name=value per line) ', set), h('label', {}, 'Remove overrides (comma-separated) ', del),
    h('label', {}, 'New partition count (more than ' + t.partitions.length + ') ', parts)],
  [{ label: 'Cancel', value: 'cancel' }, { label: 'Apply', value: 'ok' }]);
  if (r !== 'ok') return;
  try {
    const args = { name: t.name };
    const s2 = parseConfigs(set.value);
    if (Object.keys(s2).length) args.set = s2;
    const d = del.value.split(',').map((x) => x.trim()).filter(Boolean);
    if (d.length) args.delete = d;
    if (parts.value) {
      const n = parseInt(parts.value, 10);
      if (!(n > t.partitions.length)) throw new Error('the new partition count must be more than ' + t.partitions.length);
      args.add_partitions = n;
    }
    await app.action('topics.alter', broker, args).then(done('topic ' + t.name + ' altered'));
  } catch (e) { toast(e.message, true); }
}

/* ---------------- consumer groups ---------------- */

Views.groups = {
  build(app, root) {
    const st = { chartBox: h('div', { class: 'charts' }), list: h('div', { id: 'groups-list' }), selected: null, open: new Set() };
    root.append(h('h2', {}, 'Consumer groups'), st.chartBox, st.list);
    return st;
  },
  update(app, st, data) {
    st.list.replaceChildren(...data.brokers.map((b) => {
      const rows = [];
      for (const g of b.groups || []) {
        const key = b.id + '|' + g.group;
        rows.push(h('tr', { dataset: { group: g.group, broker: b.id }, class: st.selected === key ? 'selected' : '', onclick: () => {
          st.selected = key; if (st.open.has(key)) st.open.delete(key); else st.open.add(key); app.syncCharts(); Views.groups.update(app, st, app.data);
        } },
        h('td', {}, g.group), h('td', { dataset: { field: 'state' } }, g.state), h('td', { dataset: { field: 'members' } }, String(g.members)),
        h('td', { dataset: { field: 'lag' } }, g.lag === null ? '–' : String(g.lag)),
        h('td', { class: 'actions' },
          app.can('groups.reset-offsets') ? h('button', { type: 'button', onclick: (ev) => { ev.stopPropagation(); resetOffsets(app, b.id, g); } }, 'Reset offsets') : '',
          app.can('groups.delete') ? h('button', { type: 'button', class: 'danger', onclick: async (ev) => {
            ev.stopPropagation();
            if (await confirmTyped('Delete group ' + g.group, 'This deletes the group and its committed offsets (it must have no members).', g.group))
              app.action('groups.delete', b.id, { group: g.group }).then(done('group ' + g.group + ' deleted'), (e) => toast(e.message, true));
          } }, 'Delete') : '')));
        if (st.open.has(key)) rows.push(h('tr', { class: 'detail' }, h('td', { colspan: 5 },
          table(['topic', 'partition', 'committed', 'log end', 'lag'], g.offsets.map((o) => h('tr', {},
            h('td', {}, o.topic), h('td', {}, String(o.partition)), h('td', {}, String(o.committed ?? '–')), h('td', {}, String(o.log_end ?? '–')), h('td', {}, String(o.lag ?? '–'))))))));
      }
      return h('section', { dataset: { broker: b.id } }, daemonHeader(b), rows.length
        ? table(['group', 'state', 'members', 'lag', ''], rows, { class: 'groups' }) : h('p', { class: 'empty' }, 'no consumer groups'));
    }));
  },
  charts(app, st, data) {
    let key = st.selected;
    if (!key) for (const b of data.brokers) for (const g of b.groups || []) { key = key || b.id + '|' + g.group; }
    if (!key) return [];
    const [broker, group] = [key.slice(0, key.indexOf('|')), key.slice(key.indexOf('|') + 1)];
    return [{ id: 'group-lag-' + key, title: 'Lag of ' + group + ' on ' + broker, unit: 'records', series: [
      { key: `group|${broker}|${group}|lag`, label: 'lag', get: (d) => { const b = d.brokers.find((x) => x.id === broker); const g = b && (b.groups || []).find((x) => x.group === group); return g ? g.lag : null; } }] }];
  },
};

async function resetOffsets(app, broker, g) {
  const topics = [...new Set(g.offsets.map((o) => o.topic))];
  const topic = h('select', { id: 'reset-topic' }, h('option', { value: 'all' }, 'every topic with commits'), ...topics.map((t) => h('option', { value: t }, t)));
  const how = h('select', { id: 'reset-how' }, ...['to_earliest', 'to_latest', 'to_offset', 'shift_by', 'to_datetime'].map((x) => h('option', { value: x }, x)));
  const value = h('input', { id: 'reset-value', placeholder: 'offset, shift or 2026-11-21T17:30:00Z' });
  const r = await modal('Reset offsets of ' + g.group, [h('label', {}, 'Topic ', topic), h('label', {}, 'To ', how), h('label', {}, 'Value ', value),
    h('p', {}, 'A dry run comes first: it shows the new offsets without writing them.')],
  [{ label: 'Cancel', value: 'cancel' }, { label: 'Dry run', value: 'ok' }]);
  if (r !== 'ok') return;
  const args = { group: g.group, topic: topic.value, dry_run: true };
  if (how.value === 'to_earliest' || how.value === 'to_latest') args[how.value] = true;
  else if (how.value === 'to_datetime') args.to_datetime = value.value;
  else {
    const n = Number(value.value);
    if (!Number.isInteger(n)) { toast(how.value + ' needs a whole number', true); return; }
    args[how.value] = n;
  }
  try {
    const dry = await app.action('groups.reset-offsets', broker, args);
    const rows = (dry.offsets || []).map((o) => h('tr', { dataset: { reset: o.topic + '-' + o.partition } }, h('td', {}, o.topic), h('td', {}, String(o.partition)),
      h('td', {}, String(o.current ?? '–')), h('td', {}, String(o.new ?? '–'))));
    const go = await modal('Dry run: new offsets of ' + g.group, [table(['topic', 'partition', 'committed now', 'new'], rows, { id: 'reset-dry-run' }),
      h('p', {}, dry.active_members ? `The group has ${dry.active_members} active member(s): applying will be refused.` : 'Nothing is written until you apply.')],
      [{ label: 'Cancel', value: 'cancel' }, { label: 'Apply', value: 'ok', class: 'danger' }]);
    if (go !== 'ok') return;
    args.dry_run = false;
    await app.action('groups.reset-offsets', broker, args).then(done('offsets of ' + g.group + ' reset'));
  } catch (e) { toast(e.message, true); }
}

/* ---------------- tenants ---------------- */

const LIMIT_KEYS = ['retained_bytes', 'partitions', 'topics', 'connections'];

Views.tenants = {
  build(app, root) {
    const st = { chartBox: h('div', { class: 'charts' }), list: h('div', { id: 'tenants-list' }), selected: null, forms: [] };
    root.append(h('h2', {}, 'Tenants'));
    if (app.can('tenants.create')) {
      const create = form('tenant-create', 'Create a tenant', [
        { name: 'broker', label: 'Broker', options: [] }, { name: 'name', label: 'Name' },
        { name: 'prefix', label: 'Topic prefix (default <name>.)' }],
      'Create', async (v) => {
        const args = { name: v.name };
        if (v.prefix) args.prefix = v.prefix;
        await app.action('tenants.create', v.broker, args).then(done('tenant ' + v.name + ' created'));
      });
      const user = form('user-add', 'Add a user', [
        { name: 'broker', label: 'Broker', options: [] }, { name: 'user', label: 'User' },
        { name: 'password', label: 'Password', type: 'password' }, { name: 'tenant', label: 'Tenant' }],
      'Add', async (v) => {
        const args = { user: v.user, password: v.password };
        if (v.tenant) args.tenant = v.tenant;
        await app.action('users.add', v.broker, args).then(done('user ' + v.user + ' added'));
      });
      st.forms.push(create, user);
      root.append(h('div', { class: 'forms' }, create, user));
    }
    root.append(st.chartBox, st.list);
    return st;
  },
  update(app, st, data) {
    for (const f of st.forms) setOptions(f.inputs.broker, brokerOptions(data));
    st.list.replaceChildren(...data.brokers.map((b) => h('section', { dataset: { broker: b.id } }, daemonHeader(b),
      ...(b.tenants || []).map((t) => tenantCard(app, st, b, t)),
      (b.tenants || []).length ? '' : h('p', { class: 'empty' }, 'no tenants'))));
  },
  charts(app, st, data) {
    let sel = st.selected;
    if (!sel) for (const b of data.brokers) for (const t of b.tenants || []) sel = sel || { broker: b.id, tenant: t.tenant };
    if (!sel) return [];
    st.selected = sel;
    const find = (d) => { const b = d.brokers.find((x) => x.id === sel.broker); return b && (b.tenants || []).find((t) => t.tenant === sel.tenant); };
    const key = (m) => `tenant|${sel.broker}|${sel.tenant}|${m}`;
    return [
      { id: 'tenant-bytes-' + sel.broker + '-' + sel.tenant, title: sel.tenant + ': bytes in and out', unit: 'B/s', series: [
        { key: key('bytes_in'), label: 'in', get: (d) => find(d)?.now.bytes_in }, { key: key('bytes_out'), label: 'out', get: (d) => find(d)?.now.bytes_out }] },
      { id: 'tenant-throttle-' + sel.broker + '-' + sel.tenant, title: sel.tenant + ': throttle time (ms per s)', unit: 'ms', series: [
        { key: key('throttle_ms'), label: 'throttle', get: (d) => find(d)?.now.throttle_ms }] },
      { id: 'tenant-requests-' + sel.broker + '-' + sel.tenant, title: sel.tenant + ': requests and denials per second', unit: '', series: [
        { key: key('requests'), label: 'requests', get: (d) => find(d)?.now.requests }, { key: key('denials'), label: 'denials', get: (d) => find(d)?.now.denials }] },
    ];
  },
};

function tenantCard(app, st, b, t) {
  const bars = LIMIT_KEYS.filter((k) => t.limits && t.limits[k]).map((k) => {
    const l = t.limits[k];
    const pct = l.limit ? Math.min(100, 100 * l.use / l.limit) : 0;
    const fmt = k === 'retained_bytes' ? fmtBytes : (x) => String(x);
    return h('div', { class: 'limit', dataset: { limit: k } }, h('span', {}, k),
      h('div', { class: 'bar' + (pct > 90 ? ' hot' : '') }, h('div', { style: `width:${pct}%` })),
      h('span', {}, l.limit ? `${fmt(l.use)} of ${fmt(l.limit)}` : `${fmt(l.use)} (no limit)`));
  });
  const quotas = Object.entries(t.quotas || {}).map(([k, v]) => h('li', {}, `${k}: ${v === null ? 'none' : k.endsWith('byte_rate') ? fmtRate(v) : v}`));
  const now = t.now || {};
  const selected = st.selected && st.selected.broker === b.id && st.selected.tenant === t.tenant;
  return h('article', { class: 'tenant' + (selected ? ' selected' : ''), dataset: { tenant: t.tenant }, onclick: () => { st.selected = { broker: b.id, tenant: t.tenant }; app.syncCharts(); } },
    h('h4', {}, t.tenant, h('span', { class: 'small' }, ' prefix ', h('code', {}, t.prefix || ''))),
    h('div', { class: 'now' },
      h('span', {}, 'in ', h('b', { dataset: { field: 'bytes_in' } }, fmtRate(now.bytes_in))),
      h('span', {}, 'out ', h('b', { dataset: { field: 'bytes_out' } }, fmtRate(now.bytes_out))),
      h('span', {}, 'requests/s ', h('b', { dataset: { field: 'requests' } }, String(now.requests ?? 0))),
      h('span', {}, 'throttle ms/s ', h('b', { dataset: { field: 'throttle_ms' } }, String(now.throttle_ms ?? 0))),
      h('span', {}, 'denials/s ', h('b', { dataset: { field: 'denials' } }, String(now.denials ?? 0)))),
    h('div', { class: 'limits' }, ...bars),
    h('ul', { class: 'quotas' }, ...quotas),
    h('p', {}, 'users: ', ...(t.users || []).map((u) => h('span', { class: 'user', dataset: { user: u } }, u,
      app.can('users.remove') ? h('button', { type: 'button', class: 'link', onclick: async (ev) => {
        ev.stopPropagation();
        if (await confirmTyped('Remove user ' + u, 'This removes the user\'s credentials and tenant membership.', u))
          app.action('users.remove', b.id, { user: u }).then(done('user ' + u + ' removed'), (e) => toast(e.message, true));
      } }, '×') : ''))),
    app.can('tenants.delete') ? h('button', { type: 'button', class: 'danger', onclick: async (ev) => {
      ev.stopPropagation();
      if (await confirmTyped('Delete tenant ' + t.tenant, 'This deletes the tenant, its ACLs and users (and with topics, refuses: delete them first).', t.tenant))
        app.action('tenants.delete', b.id, { name: t.tenant }).then(done('tenant ' + t.tenant + ' deleted'), (e) => toast(e.message, true));
    } }, 'Delete tenant') : '');
}

/* ---------------- quotas ---------------- */

const QUOTA_KEYS = ['producer_byte_rate', 'consumer_byte_rate', 'request_percentage', 'retained_bytes', 'partitions', 'topics', 'connections', 'connection_creation_rate'];

function entityText(e) {
  return Object.entries(e || {}).map(([k, v]) => k + '=' + v).join(', ') || '(default)';
}

Views.quotas = {
  build(app, root) {
    const st = { list: h('div', { id: 'quotas-list' }), forms: [], chartBox: null };
    root.append(h('h2', {}, 'Quotas'));
    const forms = h('div', { class: 'forms' });
    if (app.can('quotas.set')) {
      const set = form('quota-set', 'Set a quota or limit', [
        { name: 'broker', label: 'Broker', options: [] },
        { name: 'kind', label: 'Entity', options: [{ value: 'tenant', label: 'tenant' }, { value: 'user', label: 'user' }, { value: 'client-id', label: 'client id' }, { value: 'user+client-id', label: 'user and client id' }] },
        { name: 'name', label: 'Name (or <default>)', placeholder: 'acme' },
        { name: 'client', label: 'Client id (user and client id only)' },
        { name: 'key', label: 'Key', options: QUOTA_KEYS },
        { name: 'value', label: 'Value', placeholder: '1048576' }],
      'Set', async (v) => {
        const value = Number(v.value);
        if (!(value > 0)) throw new Error('the value must be a number above 0');
        if (v.key === 'request_percentage' && value > 100 * 1000) throw new Error('request_percentage is a percentage of a thread');
        if (['partitions', 'topics', 'connections', 'retained_bytes'].includes(v.key) && !Number.isInteger(value)) throw new Error(v.key + ' must be a whole number');
        if (!v.name) throw new Error('name the entity (or <default>)');
        const entity = {};
        if (v.kind === 'user+client-id') { entity.user = v.name; entity['client-id'] = v.client || '<default>'; } else entity[v.kind] = v.name;
        await app.action('quotas.set', v.broker, { entity, key: v.key, value }).then(done(v.key + ' set on ' + entityText(entity)));
      });
      st.forms.push(set);
      forms.append(set);
    }
    if (app.can('explain')) {
      st.answer = h('pre', { id: 'explain-answer', class: 'explain' });
      const ex = form('explain', 'Explain: why is a principal denied or throttled?', [
        { name: 'broker', label: 'Broker', options: [] },
        { name: 'principal', label: 'Principal', placeholder: 'User:alice' },
        { name: 'client_id', label: 'Client id' },
        { name: 'kind', label: 'Quota kind', options: ['produce', 'fetch', 'request'] },
        { name: 'operation', label: 'Operation', placeholder: 'WRITE' },
        { name: 'resource_type', label: 'Resource type', options: ['', 'TOPIC', 'GROUP', 'CLUSTER', 'TRANSACTIONAL_ID'] },
        { name: 'resource_name', label: 'Resource name' }],
      'Explain', async (v) => {
        const args = { principal: v.principal, kind: v.kind };
        for (const k of ['client_id', 'operation', 'resource_type', 'resource_name']) if (v[k]) args[k] = v[k];
        const r = await app.action('explain', v.broker, args);
        st.answer.textContent = JSON.stringify(r, null, 2);
      });
      st.forms.push(ex);
      forms.append(h('div', {}, ex, st.answer));
    }
    root.append(forms, st.list);
    return st;
  },
  update(app, st, data) {
    for (const f of st.forms) setOptions(f.inputs.broker, brokerOptions(data));
    st.list.replaceChildren(...data.brokers.map((b) => {
      const q = b.quotas || {};
      const rows = (q.set || []).map((x) => h('tr', { dataset: { entity: entityText(x.entity), key: x.key } },
        h('td', {}, entityText(x.entity)), h('td', {}, x.key), h('td', {}, String(x.value)),
        h('td', {}, app.can('quotas.remove') ? h('button', { type: 'button', onclick: () =>
          app.action('quotas.remove', b.id, { entity: x.entity, key: x.key }).then(done(x.key + ' removed'), (e) => toast(e.message, true)) }, 'Remove') : '')));
      const sensors = (q.sensors || []).map((x) => h('tr', {},
        h('td', {}, entityText(x.entity)), h('td', {}, x.kind), h('td', {}, fmtNumber(x.rate)), h('td', {}, x.quota === null ? '–' : fmtNumber(x.quota)), h('td', {}, String(x.throttle_ms_window ?? 0))));
      return h('section', { dataset: { broker: b.id } }, daemonHeader(b),
        h('h4', {}, 'Set'), rows.length ? table(['entity', 'key', 'value', ''], rows, { class: 'quotas' }) : h('p', { class: 'empty' }, 'no quotas set'),
        h('h4', {}, 'Active sensors'), sensors.length ? table(['entity', 'kind', 'rate', 'quota', 'throttle ms (window)'], sensors) : h('p', { class: 'empty' }, 'no client active in the last window'));
    }));
  },
};

/* ---------------- ACLs ---------------- */

const ACL_FIELDS = ['resource_type', 'resource_name', 'pattern_type', 'principal', 'host', 'operation', 'permission'];

Views.acls = {
  build(app, root) {
    const st = { list: h('div', { id: 'acls-list' }), forms: [], filter: h('input', { id: 'acl-filter', placeholder: 'filter: principal, resource, operation…' }), chartBox: null };
    st.filter.addEventListener('input', () => app.data && Views.acls.update(app, st, app.data));
    root.append(h('h2', {}, 'ACLs'));
    if (app.can('acls.add')) {
      const add = form('acl-add', 'Add an ACL', [
        { name: 'broker', label: 'Broker', options: [] },
        { name: 'resource_type', label: 'Resource type', options: ['TOPIC', 'GROUP', 'CLUSTER', 'TRANSACTIONAL_ID'] },
        { name: 'resource_name', label: 'Resource name' },
        { name: 'pattern_type', label: 'Pattern', options: ['LITERAL', 'PREFIXED'] },
        { name: 'principal', label: 'Principal', placeholder: 'User:alice' },
        { name: 'host', label: 'Host', value: '*' },
        { name: 'operation', label: 'Operation', options: ['ALL', 'READ', 'WRITE', 'CREATE', 'DELETE', 'ALTER', 'DESCRIBE', 'CLUSTER_ACTION', 'DESCRIBE_CONFIGS', 'ALTER_CONFIGS', 'IDEMPOTENT_WRITE'] },
        { name: 'permission', label: 'Permission', options: ['ALLOW', 'DENY'] }],
      'Add', async (v) => {
        const args = {};
        for (const k of ACL_FIELDS) args[k] = v[k];
        await app.action('acls.add', v.broker, args).then(done('ACL added'));
      });
      st.forms.push(add);
      root.append(add);
    }
    root.append(st.filter, st.list);
    return st;
  },
  update(app, st, data) {
    for (const f of st.forms) setOptions(f.inputs.broker, brokerOptions(data));
    const needle = st.filter.value.toLowerCase();
    st.list.replaceChildren(...data.brokers.map((b) => {
      if (b.acls === null) return h('section', {}, daemonHeader(b), h('p', { class: 'empty' }, 'loading (asked in the next survey)…'));
      const rows = b.acls.filter((a) => !needle || ACL_FIELDS.some((k) => String(a[k] ?? '').toLowerCase().includes(needle))).map((a) =>
        h('tr', { dataset: { principal: a.principal, resource: a.resource_name } }, ...ACL_FIELDS.map((k) => h('td', {}, String(a[k] ?? ''))),
          h('td', {}, app.can('acls.remove') ? h('button', { type: 'button', class: 'danger', onclick: async () => {
            const r = await modal('Remove this ACL?', [h('pre', {}, JSON.stringify(a, null, 1))], [{ label: 'Cancel', value: 'cancel' }, { label: 'Remove', value: 'ok', class: 'danger' }]);
            if (r !== 'ok') return;
            const filter = {};
            for (const k of ACL_FIELDS) if (a[k] !== undefined) filter[k] = a[k];
            app.action('acls.remove', b.id, filter).then(done('ACL removed'), (e) => toast(e.message, true));
          } }, 'Remove') : '')));
      return h('section', { dataset: { broker: b.id } }, daemonHeader(b), table([...ACL_FIELDS, ''], rows, { class: 'acls' }));
    }));
  },
};

/* ---------------- mirroring ---------------- */

Views.mirroring = {
  build(app, root) {
    const st = { chartBox: h('div', { class: 'charts' }), list: h('div', { id: 'mirrors-list' }) };
    root.append(h('h2', {}, 'Mirroring'), st.chartBox, st.list);
    return st;
  },
  update(app, st, data) {
    st.list.replaceChildren(...data.mirrors.map((m) => h('section', { dataset: { mirror: m.id } }, daemonHeader(m),
      ...(m.flows || []).map((f) => flowCard(app, m, f)), (m.flows || []).length ? '' : h('p', { class: 'empty' }, m.up ? 'no flows' : ''))));
  },
  charts(app, st, data) {
    const out = [];
    for (const m of data.mirrors) for (const f of (m.flows || []).slice(0, 4)) {
      const find = (d) => { const x = d.mirrors.find((y) => y.id === m.id); return x && (x.flows || []).find((y) => y.flow === f.flow); };
      const key = (k) => `flow|${m.id}|${f.flow}|${k}`;
      out.push({ id: 'flow-rate-' + m.id + f.flow, title: f.flow + ': records per second and lag', unit: '', series: [
        { key: key('records'), label: 'records/s', get: (d) => find(d)?.records_per_sec }, { key: key('lag'), label: 'lag (records)', get: (d) => find(d)?.lag_records }] });
      out.push({ id: 'flow-latency-' + m.id + f.flow, title: f.flow + ': replication latency p99 (heartbeats)', unit: 'ms', series: [
        { key: key('latency_p99'), label: 'p99', get: (d) => find(d)?.latency_ms?.p99 }] });
    }
    return out;
  },
};

function flowCard(app, m, f) {
  const lat = f.latency_ms || {};
  const can = (a) => app.can(a) && m.up;
  const parts = table(['topic', 'partition', 'position', 'delivered', 'source end', 'lag', 'lag s', 'records/s'], (f.partitions || []).map((p) => h('tr', {},
    h('td', {}, p.topic), h('td', {}, String(p.partition)), h('td', {}, String(p.position)), h('td', {}, String(p.delivered)), h('td', {}, String(p.source_end)),
    h('td', {}, String(p.lag_records)), h('td', {}, Number(p.lag_seconds).toFixed(1)), h('td', {}, String(p.records_per_sec)))));
  return h('article', { class: 'flow', dataset: { flow: f.flow, state: f.state } },
    h('h4', {}, f.flow, ' ', h('span', { class: 'badge ' + (f.state === 'running' ? 'up' : 'down'), dataset: { field: 'state' } }, f.state)),
    h('div', { class: 'now' },
      h('span', {}, 'records/s ', h('b', {}, String(f.records_per_sec))), h('span', {}, 'bytes/s ', h('b', {}, fmtRate(f.bytes_per_sec))),
      h('span', {}, 'lag ', h('b', { dataset: { field: 'lag_records' } }, String(f.lag_records)), ' records / ', h('b', {}, Number(f.lag_seconds || 0).toFixed(1)), ' s'),
      h('span', {}, 'latency p50 ', h('b', {}, lat.p50 === null || lat.p50 === undefined ? '–' : Math.round(lat.p50) + ' ms'), ' p99 ', h('b', {}, lat.p99 === null || lat.p99 === undefined ? '–' : Math.round(lat.p99) + ' ms'))),
    h('div', { class: 'buttons' },
      can('mirror.pause') && f.state === 'running' ? h('button', { type: 'button', id: 'pause-' + f.flow, onclick: () => app.action('mirror.pause', m.id, { flow: f.flow }).then(done(f.flow + ' paused'), (e) => toast(e.message, true)) }, 'Pause') : '',
      can('mirror.resume') && f.state === 'paused' ? h('button', { type: 'button', id: 'resume-' + f.flow, onclick: () => app.action('mirror.resume', m.id, { flow: f.flow }).then(done(f.flow + ' resumed'), (e) => toast(e.message, true)) }, 'Resume') : '',
      can('mirror.failover') && (f.state === 'running' || f.state === 'paused') ? h('button', { type: 'button', class: 'danger', id: 'failover-' + f.flow, onclick: () => failover(app, m, f) }, 'Fail over…') : '',
      can('mirror.failback') && f.state === 'failed-over' ? h('button', { type: 'button', id: 'failback-' + f.flow, onclick: () => app.action('mirror.failback', m.id, { flow: f.flow }).then(done(f.flow + ' failed back'), (e) => toast(e.message, true)) }, 'Fail back') : ''),
    (f.errors || []).length ? h('ul', { class: 'errors' }, ...f.errors.slice(-5).map((e) => h('li', {}, e.message))) : '',
    h('details', {}, h('summary', {}, (f.partitions || []).length + ' partitions'), parts));
}

function atRiskTable(list) {
  return list.length ? table(['topic', 'partition', 'from', 'to', 'records'], list.map((r) => h('tr', { dataset: { atRisk: r.topic + '-' + r.partition } },
    h('td', {}, r.topic), h('td', {}, String(r.partition)), h('td', {}, String(r.from)), h('td', {}, String(r.to)), h('td', {}, String(r.to - r.from)))), { id: 'at-risk' })
    : h('p', { id: 'at-risk', class: 'empty' }, 'nothing at risk: the target has every record the source has');
}

async function failover(app, m, f) {
  try {
    const preview = await app.action('mirror.failover-preview', m.id, { flow: f.flow });
    const r = await modal('Fail over ' + f.flow + '?', [
      h('p', {}, 'Failing over stops the flow and writes the final translated group offsets to the target. These source offset ranges are not on the target yet (as of the last status) and would be left behind:'),
      atRiskTable(preview.at_risk)],
    [{ label: 'Cancel', value: 'cancel' }, { label: 'Fail over', value: 'ok', class: 'danger' }]);
    if (r !== 'ok') return;
    toast('failing over ' + f.flow + '…');
    const report = await app.action('mirror.failover', m.id, { flow: f.flow });
    await modal(f.flow + ' failed over', [h('p', {}, 'Ranges not replicated (the daemon\'s final report):'), atRiskTable(report.at_risk || [])], [{ label: 'Close', value: 'close' }]);
  } catch (e) { toast(e.message, true); }
}

/* ---------------- audit ---------------- */

Views.audit = {
  build(app, root) {
    const st = { list: h('div', { id: 'audit-list' }), chartBox: null };
    root.append(h('h2', {}, 'Audit'), h('p', { class: 'small' }, 'Every action taken through the console, and every change the daemons report over the management bus (e.g. by the strait CLI). Newest first.'), st.list);
    return st;
  },
  update(app, st, data) {
    const rows = data.entries.slice().reverse().map((e) => h('tr', { dataset: { action: e.action, ok: String(e.ok), who: e.who } },
      h('td', {}, e.time || ''), h('td', {}, e.who), h('td', {}, e.role || ''), h('td', {}, e.via), h('td', {}, e.daemon),
      h('td', {}, e.action), h('td', { class: 'args' }, JSON.stringify(e.args || {})),
      h('td', { class: e.ok ? 'ok' : 'error' }, e.ok ? 'ok' : e.error || 'failed')));
    st.list.replaceChildren(table(['time (UTC)', 'who', 'role', 'via', 'daemon', 'action', 'arguments', 'result'], rows, { id: 'audit-table' }));
  },
};
