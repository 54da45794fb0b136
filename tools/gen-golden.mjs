// gen-golden.mjs: golden indicator values for tests/unit/dsl/test_indicators.c,
// computed by an independent implementation (npm trading-signals 8.3.0, MIT).
// Run once, commit the output (tests/data/dsl/indicators-*.csv); CI needs no node.
//
//   mkdir -p /tmp/oracle && cd /tmp/oracle && npm init -y && npm install trading-signals@8.3.0
//   NODE_PATH=/tmp/oracle/node_modules node tools/gen-golden.mjs tests/data/dsl
//
// How each DSL indicator maps onto the oracle (dsl-semantics.md §7 items 16-21):
//   rsi                       RSI(w) (Wilder/WSMA). Its seed (SMA of the first w
//                             moves) differs from ours (0), so only indices
//                             t >= 40w are written, where the seed's weight
//                             (1-1/w)^t < 1e-15.
//   moving-average-price      SMA(w)
//   exponential-moving-average-price  EMA(w) (seeded on the first price, as ours)
//   moving-average-return     getAverage(getReturns(last w+1 closes))
//   cumulative-return         ROC(w) x 100
//   stdev-return              getStandardDeviation(getReturns(last w+1 closes)) (population)
//   stdev-price               getStandardDeviation(last w closes) x sqrt(w/(w-1)) (sample)
//   max-drawdown              getMaxDrawdown(last w closes)
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

const require = createRequire(path.join(process.env.NODE_PATH || '.', 'x.js'));
const ts = await import(require.resolve('trading-signals'));
const outDir = process.argv[2] || 'tests/data/dsl';

// Deterministic fixture series: a 32-bit LCG random walk, 4 decimals.
function series(seed, n, start, vol) {
  let s = seed >>> 0, p = start;
  const out = [];
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const u = s / 4294967296;
    p = Math.round(p * (1 + (u - 0.5) * vol) * 1e4) / 1e4;
    out.push(p);
  }
  return out;
}

const fixtures = {
  walk: series(12345, 1000, 100, 0.06),
  volatile: series(987654, 1000, 20, 0.16),
};
const windows = {
  'rsi': [2, 5, 14, 20],
  'moving-average-price': [1, 5, 20, 200],
  'exponential-moving-average-price': [1, 4, 12, 50],
  'moving-average-return': [1, 4, 21, 60],
  'cumulative-return': [1, 5, 60, 252],
  'stdev-return': [2, 6, 21, 60],
  'stdev-price': [2, 6, 14, 50],
  'max-drawdown': [3, 10, 60, 252],
};

function values(kind, w, p) {
  const out = new Array(p.length).fill(null);
  if (kind === 'rsi' || kind === 'moving-average-price' ||
      kind === 'exponential-moving-average-price' || kind === 'cumulative-return') {
    const ind = kind === 'rsi' ? new ts.RSI(w) : kind === 'moving-average-price' ? new ts.SMA(w)
      : kind === 'exponential-moving-average-price' ? new ts.EMA(w) : new ts.ROC(w);
    for (let t = 0; t < p.length; t++) {
      ind.update(p[t]);
      if (ind.isStable) out[t] = Number(ind.getResult()) * (kind === 'cumulative-return' ? 100 : 1);
    }
    return out;
  }
  for (let t = 0; t < p.length; t++) {
    if (kind === 'moving-average-return' && t >= w)
      out[t] = ts.getAverage(ts.getReturns(p.slice(t - w, t + 1)));
    else if (kind === 'stdev-return' && t >= w)
      out[t] = ts.getStandardDeviation(ts.getReturns(p.slice(t - w, t + 1)));
    else if (kind === 'stdev-price' && t >= w - 1)
      out[t] = ts.getStandardDeviation(p.slice(t - w + 1, t + 1)) * Math.sqrt(w / (w - 1));
    else if (kind === 'max-drawdown' && t >= w - 1)
      out[t] = ts.getMaxDrawdown(p.slice(t - w + 1, t + 1));
  }
  return out;
}

for (const [name, p] of Object.entries(fixtures)) {
  writeFileSync(path.join(outDir, `indicators-${name}-series.csv`),
    'index,close\n' + p.map((v, i) => `${i},${v.toFixed(4)}`).join('\n') + '\n');
  const lines = ['kind,window,index,value'];
  for (const [kind, ws] of Object.entries(windows)) {
    for (const w of ws) {
      const v = values(kind, w, p);
      const from = kind === 'rsi' ? 40 * w : 0;
      // Every 13th index plus the last ten keep the file small yet cover the range.
      for (let t = 0; t < p.length; t++) {
        if (v[t] === null || t < from || (t % 13 !== 0 && t < p.length - 10)) continue;
        lines.push(`${kind},${w},${t},${v[t].toPrecision(17)}`);
      }
    }
  }
  writeFileSync(path.join(outDir, `indicators-${name}-golden.csv`), lines.join('\n') + '\n');
}
