// alpaca-fixture.mjs: a loopback stand-in for Alpaca Market Data v2, started by
// tests/unit/dsl/test_marketdata_alpaca.c. Listens on 127.0.0.1 with a port
// the OS picks, prints it on stdout, exits by itself after 60 s.
//   GET /v2/stocks/bars           multi-symbol daily bars, 7 bars per page
//   GET /v2/stocks/quotes/latest  AAA two-sided, ONESIDE bid only
//   GET /__log                    every request so far (path + query)
// Symbols THROTTLE (429 once) and DOWN (503 always) exercise the back-off.
import http from 'node:http';

const KEY = 'kid', SECRET = 'sek', PAGE = 7;
const base = { AAA: 10, BBB: 20, 'BRK.B': 300, THROTTLE: 5 };
const log = [];
let throttled = false;

function weekdays(start, end) {
  const out = [];
  for (let d = new Date(start + 'T00:00:00Z'); d <= new Date(end + 'T00:00:00Z');
       d.setUTCDate(d.getUTCDate() + 1)) {
    const wd = d.getUTCDay();
    if (wd !== 0 && wd !== 6) out.push(d.toISOString().slice(0, 10));
  }
  return out;
}

function send(res, status, body, headers = {}) {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/__log') return send(res, 200, log);
  log.push({ path: url.pathname, query: Object.fromEntries(url.searchParams) });
  if (req.headers['apca-api-key-id'] !== KEY || req.headers['apca-api-secret-key'] !== SECRET)
    return send(res, 401, { message: 'unauthorized' });
  const symbols = (url.searchParams.get('symbols') || '').split(',').filter(Boolean);
  if (url.pathname === '/v2/stocks/quotes/latest') {
    const quotes = {};
    if (symbols.includes('AAA')) quotes.AAA = { ap: 10.2, bp: 10.0, t: '2026-11-20T15:00:00Z' };
    if (symbols.includes('ONESIDE')) quotes.ONESIDE = { ap: 0, bp: 5, t: '2026-11-20T15:00:00Z' };
    return send(res, 200, { quotes });
  }
  if (url.pathname !== '/v2/stocks/bars') return send(res, 404, { message: 'not found' });
  if (symbols.includes('DOWN')) return send(res, 503, { message: 'unavailable' });
  if (symbols.includes('THROTTLE') && !throttled) {
    throttled = true;
    return send(res, 429, { message: 'too many requests' },
      { 'X-Ratelimit-Reset': String(Math.floor(Date.now() / 1000)) });
  }
  // start/end: full RFC 3339 times, as the official SDK sends them (a bare
  // date leaves inclusiveness to the reader).
  const rfc3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;
  for (const k of ['start', 'end'])
    if (!rfc3339.test(url.searchParams.get(k) || ''))
      return send(res, 422, { code: 42210000, message: `${k}: send an RFC 3339 time` });
  const days = weekdays(url.searchParams.get('start').slice(0, 10),
    url.searchParams.get('end').slice(0, 10));
  const all = [];
  for (const s of [...symbols].sort())
    if (s in base)
      days.forEach((d, i) => all.push([s, { t: d + 'T05:00:00Z', o: base[s], h: base[s] + i,
        l: base[s] - 1, c: base[s] + i * 0.5, v: 1000 + i, n: 10, vw: base[s] }]));
  const off = Number(Buffer.from(url.searchParams.get('page_token') || 'MA==', 'base64').toString());
  const bars = {};
  for (const [s, b] of all.slice(off, off + PAGE)) (bars[s] ||= []).push(b);
  const next = off + PAGE < all.length ? Buffer.from(String(off + PAGE)).toString('base64') : null;
  send(res, 200, { bars, next_page_token: next });
});

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${server.address().port}\n`);
});
setTimeout(() => process.exit(0), 60000).unref();
server.on('close', () => process.exit(0));
