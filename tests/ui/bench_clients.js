// The websocket side of tests/bench/console_bench.sh: logs in to strait-console, opens
// N websockets (what N browser tabs open) each subscribed to the given views, and every
// CHANGE_EVERY seconds produces one record with kcat to TOPIC and measures, on every
// socket, how long until a "topics" view shows the topic's new end offset. Runs for
// DURATION seconds, then prints one JSON line:
//   {"clients","changes","latency_ms":{"p50","p99","max"},"messages","bytes","errors"}
//
//   node bench_clients.js URL ADMIN_PASSWORD N DURATION CHANGE_EVERY TOPIC BOOTSTRAP VIEWS
'use strict';

const { execFileSync } = require('child_process');
const WebSocket = require('ws');

const [url, password, nArg, durArg, everyArg, topic, bootstrap, viewsArg] = process.argv.slice(2);
const N = Number(nArg), DURATION = Number(durArg) * 1000, EVERY = Number(everyArg) * 1000;
const VIEWS = viewsArg.split(',');
const KCAT = process.env.KCAT || 'kcat';

function endOffset(view) {
  for (const b of view.data.brokers || [])
    for (const t of b.topics || [])
      if (t.name === topic) return t.partitions.reduce((a, p) => a + p.end_offset, 0);
  return null;
}

async function login() {
  const res = await fetch(url + '/login', {
    method: 'POST', headers: { 'Content-Type': 'application/json', Origin: url },
    body: JSON.stringify({ user: 'admin', password }),
  });
  if (!res.ok) throw new Error('login failed: HTTP ' + res.status);
  return res.headers.get('set-cookie').split(';')[0];
}

// The console allows 16 websockets per login session (admin-ui/console.h): one session
// per 16 clients, as that many browser logins would be.
const PER_SESSION = 16;

async function main() {
  const cookies = [];
  for (let i = 0; i < Math.ceil(N / PER_SESSION); i++) cookies.push(await login());
  let messages = 0, bytes = 0, errors = 0;
  const clients = [];
  const waits = []; // {want, t0, seen: Set}
  const latencies = [];
  for (let i = 0; i < N; i++) {
    const ws = new WebSocket(url.replace(/^http/, 'ws') + '/ws', 'strait-console', { headers: { Origin: url, Cookie: cookies[Math.floor(i / PER_SESSION)] } });
    const c = { ws, id: i, end: null };
    ws.on('message', (data) => {
      messages++;
      bytes += data.length;
      const m = JSON.parse(data);
      if (m.type === 'error') errors++;
      if (m.type !== 'view' || m.view !== 'topics') return;
      c.end = endOffset(m);
      const now = Date.now();
      for (const w of waits)
        if (!w.seen.has(i) && c.end !== null && c.end >= w.want) {
          w.seen.add(i);
          latencies.push(now - w.t0);
        }
    });
    await new Promise((resolve, reject) => { ws.on('open', resolve); ws.on('error', reject); });
    for (const v of VIEWS) ws.send(JSON.stringify({ type: 'subscribe', view: v }));
    clients.push(c);
  }
  const deadline = Date.now() + DURATION;
  let changes = 0;
  while (Date.now() + EVERY <= deadline) {
    await new Promise((r) => setTimeout(r, EVERY));
    const before = Math.max(...clients.map((c) => c.end ?? 0));
    execFileSync(KCAT, ['-b', bootstrap, '-P', '-t', topic, '-p', '0'], { input: 'change\n', timeout: 30000 });
    waits.push({ want: before + 1, t0: Date.now(), seen: new Set() });
    changes++;
  }
  await new Promise((r) => setTimeout(r, 3000)); // the last change's pushes
  const missing = waits.reduce((a, w) => a + (N - w.seen.size), 0);
  latencies.sort((a, b) => a - b);
  const q = (p) => latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] : null;
  for (const c of clients) c.ws.close();
  console.log(JSON.stringify({ clients: N, views: VIEWS, changes, missing, latency_ms: { p50: q(0.5), p99: q(0.99), max: latencies[latencies.length - 1] ?? null }, messages, bytes, errors }));
}

main().catch((e) => { console.error('bench_clients:', e.message); process.exit(1); });
