#!/usr/bin/env node
// Alpaca Trading/Data API v2 fixture for alchemiserd's broker tests. Zero
// dependencies (node's http only). Listens on 127.0.0.1 (port from --port, 0 =
// any) and prints "LISTENING <port>" once ready. Test control, no auth:
//   POST /__state    merge {cash, blocked, prices{sym: n}, positions{sym: qty}, assets{sym:
//                    {tradable, fractionable}}, fill: "fill"|"cross"|"new"|"partial"|"reject"}
//   POST /__script   append rules [{method, path, status, body, headers, delay_ms,
//                    drop, process, times}]: the next `times` (1) matching requests
//                    get this answer; process=true lets an order POST take effect
//                    first (committed, then the answer fails); drop closes the socket
//   GET  /__requests every API request so far [{method, path, query, body, auth}]
//   POST /__reset    forget orders, requests and rules
// Every request is recorded before any rule applies; secrets are not recorded,
// only whether they matched (auth: true/false).
'use strict';
const http = require('http');
const crypto = require('crypto');

const arg = (name, dflt) => {
	const i = process.argv.indexOf('--' + name);
	return i >= 0 ? process.argv[i + 1] : dflt;
};
const KEY = arg('key', 'test-key');
const SECRET = arg('secret', 'test-secret');

let st, requests, rules;
function reset() {
	st = { cash: 10000, prices: {}, positions: {}, assets: {}, fill: 'fill', blocked: false, orders: [] };
	requests = [];
	rules = [];
}
reset();

const money = (n) => (Math.round(n * 1e6) / 1e6).toString();
const now = () => new Date().toISOString();
const quote = (sym) => {
	const p = st.prices[sym];
	return p === undefined ? null : { bid: +(p - 0.05).toFixed(2), ask: +(p + 0.05).toFixed(2) };
};
const asset = (sym) => st.assets[sym] || { tradable: true, fractionable: true };

function send(res, status, body, headers) {
	const text = body === undefined || body === null ? '' :
		typeof body === 'string' ? body : JSON.stringify(body);
	res.writeHead(status, Object.assign({ 'Content-Type': 'application/json' }, headers || {}));
	res.end(text);
}

function orderJson(o) {
	return {
		id: o.id, client_order_id: o.client_order_id, symbol: o.symbol, side: o.side,
		type: o.type, order_type: o.type, time_in_force: 'day',
		qty: o.qty === null ? null : money(o.qty), notional: o.notional === null ? null : money(o.notional),
		limit_price: o.limit_price === null ? null : money(o.limit_price),
		filled_qty: money(o.filled_qty),
		filled_avg_price: o.filled_qty > 0 ? money(o.filled_avg_price) : null,
		status: o.status, created_at: o.created_at, submitted_at: o.created_at,
		filled_at: o.status === 'filled' ? o.filled_at : null, legs: null,
	};
}

function fill(o, qty, price) {
	const pos = st.positions[o.symbol] || 0;
	const value = qty * price;
	if (o.side === 'buy') { st.cash -= value; st.positions[o.symbol] = pos + qty; }
	else { st.cash += value; st.positions[o.symbol] = pos - qty; }
	if (Math.abs(st.positions[o.symbol]) < 1e-9) delete st.positions[o.symbol];
	o.filled_avg_price = (o.filled_avg_price * o.filled_qty + value) / (o.filled_qty + qty);
	o.filled_qty += qty;
	o.status = o.filled_qty + 1e-9 >= o.qty ? 'filled' : 'partially_filled';
	if (o.status === 'filled') o.filled_at = now();
}

// Fill per the mode: fill (at the limit or the far side), cross (limits only
// when they reach the far side), new (never), partial (half, then stuck),
// reject (status rejected).
function work(o) {
	const q = quote(o.symbol);
	if (!q || ['filled', 'canceled', 'rejected'].includes(o.status) || o.stuck) return;
	const far = o.side === 'buy' ? q.ask : q.bid;
	const px = o.type === 'limit' && st.fill === 'fill' ? o.limit_price : far;
	const crosses = o.type === 'market' || (o.side === 'buy' ? o.limit_price >= far : o.limit_price <= far);
	if (st.fill === 'reject') { o.status = 'rejected'; return; }
	if (st.fill === 'new') return;
	if (st.fill === 'cross' && !crosses) return;
	if (st.fill === 'partial' && o.type === 'limit') {
		fill(o, Math.floor(o.qty / 2 * 1e6) / 1e6, px);
		o.stuck = true;
		return;
	}
	fill(o, o.qty - o.filled_qty, px);
}

function createOrder(b) {
	if (!b.client_order_id) b.client_order_id = crypto.randomUUID();
	if (st.orders.some((o) => o.client_order_id === b.client_order_id))
		return [422, { code: 40010001, message: 'client_order_id must be unique' }];
	if (!b.symbol || !['buy', 'sell'].includes(b.side) || !['market', 'limit'].includes(b.type) ||
	    (b.qty === undefined) === (b.notional === undefined) || (b.type === 'limit' && !b.limit_price))
		return [422, { code: 42210000, message: 'invalid order request' }];
	const a = asset(b.symbol);
	if (!a.tradable) return [422, { code: 42210000, message: `asset ${b.symbol} is not tradable` }];
	const qty = b.qty !== undefined ? parseFloat(b.qty) : null;
	const q = quote(b.symbol);
	if (b.side === 'sell' && qty > (st.positions[b.symbol] || 0) + 1e-9)
		return [403, { code: 40310000, message: `insufficient qty available for order (requested: ${qty}, available: ${st.positions[b.symbol] || 0})` }];
	if (b.side === 'buy' && q && qty !== null && qty * (b.limit_price ? parseFloat(b.limit_price) : q.ask) > st.cash + 1e-9)
		return [403, { code: 40310000, message: 'insufficient buying power' }];
	const o = {
		id: crypto.randomUUID(), client_order_id: b.client_order_id, symbol: b.symbol, side: b.side,
		type: b.type, qty: qty !== null ? qty : parseFloat(b.notional) / (q ? q.ask : 1),
		notional: b.notional !== undefined ? parseFloat(b.notional) : null,
		limit_price: b.limit_price ? parseFloat(b.limit_price) : null,
		filled_qty: 0, filled_avg_price: 0, status: 'new', created_at: now(),
	};
	st.orders.push(o);
	work(o);
	return [200, orderJson(o)];
}

function api(req, res, url, body) {
	const m = req.method, p = url.pathname;
	let r;
	if (m === 'GET' && p === '/v2/account') {
		const mv = Object.entries(st.positions).reduce((s, [k, q]) => s + q * (st.prices[k] || 0), 0);
		const reserved = st.orders.filter((o) => ['new', 'partially_filled'].includes(o.status) && o.side === 'buy')
			.reduce((s, o) => s + (o.qty - o.filled_qty) * (o.limit_price || 0), 0);
		return send(res, 200, {
			id: 'acct-1', status: 'ACTIVE', currency: 'USD', cash: money(st.cash),
			buying_power: money(Math.max(0, st.cash - reserved)), equity: money(st.cash + mv),
			portfolio_value: money(st.cash + mv), last_equity: money(st.cash + mv),
			trading_blocked: st.blocked, account_blocked: false,
		});
	}
	if (m === 'GET' && p === '/v2/positions')
		return send(res, 200, Object.entries(st.positions).map(([k, q]) => ({
			symbol: k, qty: money(q), qty_available: money(q), side: 'long',
			avg_entry_price: money(st.prices[k] || 0), market_value: money(q * (st.prices[k] || 0)),
			current_price: money(st.prices[k] || 0),
		})));
	if (m === 'GET' && p === '/v2/clock')
		return send(res, 200, { timestamp: '2026-01-02T10:15:00.123456789-05:00', is_open: true,
			next_open: '2026-01-05T09:30:00-05:00', next_close: '2026-01-02T16:00:00-05:00' });
	if (m === 'GET' && p === '/v2/calendar')
		return send(res, 200, [{ date: '2026-01-02', open: '09:30', close: '16:00' },
			{ date: '2026-11-27', open: '09:30', close: '13:00' }]);
	if (m === 'GET' && (r = p.match(/^\/v2\/assets\/(.+)$/))) {
		const sym = decodeURIComponent(r[1]);
		if (st.prices[sym] === undefined && !st.assets[sym]) return send(res, 404, { code: 40410000, message: 'asset not found' });
		return send(res, 200, Object.assign({ symbol: sym, class: 'us_equity', status: 'active' }, asset(sym)));
	}
	if (m === 'GET' && p === '/v2/stocks/quotes/latest') {
		const out = {};
		for (const s of (url.searchParams.get('symbols') || '').split(',')) {
			const q = quote(s);
			if (q) out[s] = { t: now(), bp: q.bid, ap: q.ask, bs: 100, as: 100 };
		}
		return send(res, 200, { quotes: out });
	}
	if (m === 'POST' && p === '/v2/orders') {
		let b;
		try { b = JSON.parse(body); } catch (e) { return send(res, 400, { message: 'bad json' }); }
		const [s, j] = createOrder(b);
		return send(res, s, j);
	}
	if (m === 'GET' && p === '/v2/orders:by_client_order_id') {
		const o = st.orders.find((x) => x.client_order_id === url.searchParams.get('client_order_id'));
		st.orders.forEach(work);
		return o ? send(res, 200, orderJson(o)) : send(res, 404, { code: 40410000, message: 'order not found' });
	}
	if (m === 'GET' && p === '/v2/orders') {
		st.orders.forEach(work);
		return send(res, 200, st.orders.filter((o) => ['new', 'partially_filled'].includes(o.status)).map(orderJson));
	}
	if ((r = p.match(/^\/v2\/orders\/([^/]+)$/))) {
		const o = st.orders.find((x) => x.id === r[1]);
		if (!o) return send(res, 404, { code: 40410000, message: 'order not found' });
		if (m === 'GET') { work(o); return send(res, 200, orderJson(o)); }
		if (m === 'DELETE') {
			if (['filled', 'canceled', 'rejected', 'expired'].includes(o.status))
				return send(res, 422, { code: 42210000, message: `order is not cancelable: ${o.status}` });
			o.status = 'canceled';
			return send(res, 204, null);
		}
	}
	if (m === 'GET' && p === '/v2/account/portfolio/history')
		return send(res, 200, { timestamp: [1767157200, 1767243600, 1767330000],
			equity: [10000.5, null, 10100.25], profit_loss: [0, null, 99.75],
			profit_loss_pct: [0, null, 0.0099], base_value: 10000.5, timeframe: '1D' });
	return send(res, 404, { message: 'no such route ' + m + ' ' + p });
}

function control(req, res, url, body) {
	const p = url.pathname;
	if (req.method === 'GET' && p === '/__requests') return send(res, 200, requests);
	if (req.method === 'POST' && p === '/__reset') { reset(); return send(res, 200, {}); }
	if (req.method === 'POST' && p === '/__state') {
		const b = JSON.parse(body || '{}');
		for (const k of ['cash', 'fill', 'blocked']) if (b[k] !== undefined) st[k] = b[k];
		for (const k of ['prices', 'positions', 'assets']) Object.assign(st[k], b[k] || {});
		return send(res, 200, {});
	}
	if (req.method === 'POST' && p === '/__script') {
		for (const r of JSON.parse(body || '[]')) rules.push(Object.assign({ times: 1 }, r));
		return send(res, 200, {});
	}
	return send(res, 404, { message: 'no such control route' });
}

const server = http.createServer((req, res) => {
	let body = '';
	req.on('data', (c) => { body += c; });
	req.on('end', () => {
		const url = new URL(req.url, 'http://fixture');
		if (url.pathname.startsWith('/__')) return control(req, res, url, body);
		const auth = req.headers['apca-api-key-id'] === KEY && req.headers['apca-api-secret-key'] === SECRET;
		requests.push({ method: req.method, path: url.pathname, query: url.search, body, auth });
		if (!auth) return send(res, 401, { message: 'unauthorized' });
		const rule = rules.find((r) => r.times > 0 && (!r.method || r.method === req.method) &&
			url.pathname.startsWith(r.path || '/'));
		if (!rule) return api(req, res, url, body);
		rule.times--;
		const answer = () => {
			if (rule.process) api(req, { writeHead() {}, end() {} }, url, body);
			if (rule.drop) return req.socket.destroy();
			send(res, rule.status || 500, rule.body !== undefined ? rule.body : { message: 'scripted' }, rule.headers);
		};
		if (rule.delay_ms) setTimeout(answer, rule.delay_ms); else answer();
	});
});
server.listen(parseInt(arg('port', '0'), 10), '127.0.0.1', () => {
	process.stdout.write(`LISTENING ${server.address().port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
