// Line charts of the last five minutes, drawn on a canvas. Every series holds 300
// one-second slots ending at its newest second; the console sends the history when a
// chart opens and the app pushes one value per survey tick after that.
'use strict';

const CHART_SECONDS = 300;
const CHART_COLORS = ['#2b7bb9', '#d9822b', '#3d9970', '#b10dc9', '#e0413a', '#7f8c8d'];

function fmtNumber(v, unit) {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  if (unit === 'B/s' || unit === 'B') {
    const units = unit === 'B/s' ? ['B/s', 'KiB/s', 'MiB/s', 'GiB/s'] : ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (Math.abs(v) >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    const text = i || (Math.abs(v) < 10 && !Number.isInteger(v)) ? v.toFixed(1) : Math.round(v);
    return text + ' ' + units[i];
  }
  const s = Math.abs(v) >= 100 || Number.isInteger(v) ? Math.round(v).toLocaleString('en') : v.toFixed(2);
  return unit ? s + ' ' + unit : s;
}

class Chart {
  // series: [{key, label}], unit: how values print ('B/s', 'ms', ...)
  constructor(id, title, series, unit) {
    this.id = id;
    this.unit = unit;
    this.series = series.map((s, i) => ({
      key: s.key, label: s.label, color: CHART_COLORS[i % CHART_COLORS.length],
      end: 0, values: new Float64Array(CHART_SECONDS).fill(NaN),
    }));
    this.el = document.createElement('figure');
    this.el.className = 'chart';
    this.el.dataset.chart = id;
    const cap = document.createElement('figcaption');
    cap.textContent = title;
    this.canvas = document.createElement('canvas');
    this.legend = document.createElement('div');
    this.legend.className = 'legend';
    this.el.append(cap, this.canvas, this.legend);
  }

  slide(s, t) {
    if (t <= s.end) return;
    const shift = Math.min(t - s.end, CHART_SECONDS);
    s.values.copyWithin(0, shift);
    s.values.fill(NaN, CHART_SECONDS - shift);
    s.end = t;
  }

  setHistory(key, end, values) {
    for (const s of this.series) {
      if (s.key !== key || !Array.isArray(values)) continue;
      const keep = s.end > end ? s.values.slice() : null, keepEnd = s.end;
      s.end = end;
      s.values.fill(NaN);
      values.slice(-CHART_SECONDS).forEach((v, i) => {
        s.values[CHART_SECONDS - Math.min(values.length, CHART_SECONDS) + i] = v === null ? NaN : v;
      });
      if (keep) { // live points newer than the history: keep them
        this.slide(s, keepEnd);
        for (let t = end + 1; t <= keepEnd; t++)
          s.values[CHART_SECONDS - 1 - (keepEnd - t)] = keep[CHART_SECONDS - 1 - (keepEnd - t)];
      }
    }
    this.draw();
  }

  push(t, key, value) {
    for (const s of this.series) {
      if (s.key !== key) continue;
      this.slide(s, t);
      if (t > s.end - CHART_SECONDS) s.values[CHART_SECONDS - 1 - (s.end - t)] = value;
    }
  }

  latest(s) {
    for (let i = CHART_SECONDS - 1; i >= 0; i--) if (!Number.isNaN(s.values[i])) return s.values[i];
    return NaN;
  }

  draw() {
    const ratio = window.devicePixelRatio || 1;
    const w = this.canvas.clientWidth || 560, h = this.canvas.clientHeight || 140;
    this.canvas.width = w * ratio;
    this.canvas.height = h * ratio;
    const g = this.canvas.getContext('2d');
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, w, h);
    const end = Math.max(...this.series.map((s) => s.end));
    let max = 0;
    for (const s of this.series) for (const v of s.values) if (v > max) max = v;
    max = max > 0 ? max * 1.15 : 1;
    const left = 64, top = 6, bottom = h - 18, right = w - 6;
    g.strokeStyle = '#ddd';
    g.fillStyle = '#666';
    g.font = '11px sans-serif';
    g.lineWidth = 1;
    for (let k = 0; k <= 2; k++) {
      const y = bottom - (bottom - top) * k / 2;
      g.beginPath(); g.moveTo(left, y); g.lineTo(right, y); g.stroke();
      g.fillText(fmtNumber(max * k / 2, this.unit), 2, y + 4);
    }
    g.fillText('-5 min', left, h - 4);
    g.fillText('now', right - 22, h - 4);
    for (const s of this.series) {
      g.strokeStyle = s.color;
      g.lineWidth = 1.6;
      g.beginPath();
      let pen = false;
      for (let i = 0; i < CHART_SECONDS; i++) {
        const v = s.values[i];
        const t = s.end - (CHART_SECONDS - 1 - i);
        const x = left + (right - left) * (CHART_SECONDS - 1 - (end - t)) / (CHART_SECONDS - 1);
        if (Number.isNaN(v)) { pen = false; continue; }
        const y = bottom - (bottom - top) * v / max;
        if (pen) g.lineTo(x, y); else g.moveTo(x, y);
        pen = true;
      }
      g.stroke();
    }
    this.legend.replaceChildren(...this.series.map((s) => {
      const span = document.createElement('span');
      span.style.setProperty('--c', s.color);
      span.textContent = s.label + ': ' + fmtNumber(this.latest(s), this.unit);
      return span;
    }));
  }
}
