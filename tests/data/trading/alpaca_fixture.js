#!/usr/bin/env node
// Alpaca Trading API v2 + Market Data API v2 contract fixture for alchemiserd's
// tests. Our own code: a stand-in for Alpaca on 127.0.0.1 (port from --port,
// 0 = any); prints "LISTENING <port>" once ready.
//
// Where its facts come from:
// - The official SDK @alpacahq/alpaca-trade-api 4.0.2 (pinned in
//   tests/alpaca/package-lock.json; loaded at start, the fixture refuses to run
//   without it). Its generated code (from Alpaca's OpenAPI spec) gives: the
//   enums we validate against and serve (OrderStatus, OrderType, TimeInForce,
//   OrderSide, OrderClass, AccountStatus, StockHistoricalFeed, Sort); the JSON
//   field names of every answer (each answer is passed through the SDK's
//   <Model>FromJSON/<Model>ToJSON, and a field the model does not know makes
//   the fixture answer 500); the request field names of POST /v2/orders
//   (PostOrderRequest: an unknown field is refused); client_order_id <= 128
//   characters and "qty ... can be fractionable for only market and day order
//   types", "notional ... only market ... day" (PostOrderRequest field docs);
//   the query parameters of GET /v2/orders (GetAllOrdersRequest: status,
//   limit, after, until, direction, nested); /v2/calendar and /v2/stocks/bars
//   taking start/end as full RFC 3339 times (the SDK sends toISOString());
//   Retry-After read as seconds or as an HTTP date (core/runtime.ts).
// - Alpaca's documents (shared/reference/alpaca.md and the pages quoted in
//   docs/alpaca-contract.md): limit <= 500 on GET /v2/orders, paging by moving
//   `after`; 422 code 40010001 for a duplicate client_order_id; 403 for
//   insufficient buying power or qty; the status meanings (replaced carries
//   replaced_by, done_for_day and calculated are not "filled"); the account
//   flags trading_blocked, account_blocked, trade_suspended_by_user; 429 with
//   Retry-After; "requested asset is not fractionable".
// - Our choices (not Alpaca facts): prices, the fill modes below, the order of
//   statuses in a sequence, the synthetic daily bars.
//
// Test control, no auth:
//   POST /__state    merge {cash, blocked, account: {status, trading_blocked,
//                    account_blocked, trade_suspended_by_user}, prices{sym: n},
//                    positions{sym: qty}, assets{sym: {tradable, fractionable}},
//                    fill: "fill"|"cross"|"new"|"partial"|"reject",
//                    sequence: [statuses advanced one per read of the order, e.g.
//                    ["accepted","pending_new","new","partially_filled","filled"];
//                    "replaced" re-places the rest as a new order (replaced_by);
//                    a cancel goes pending_cancel, then canceled at the next read],
//                    foreign: [{symbol, side, type, qty, stop_price, limit_price,
//                    trail_percent, order_class, count}] open orders placed by
//                    someone else (bracket orders get legs)}
//   POST /__script   append rules [{method, path, status, body, headers, delay_ms,
//                    drop, process, times}]: the next `times` (1) matching requests
//                    get this answer; process=true lets an order POST take effect
//                    first (committed, then the answer fails); drop closes the socket
//   POST /__ratelimit {path, seconds, form: "seconds"|"date"}: every request whose
//                    path starts with `path` gets 429 until `seconds` from now,
//                    with Retry-After in that form
//   GET  /__requests every API request so far [{method, path, query, body, auth}]
//   POST /__reset    forget orders, requests and rules
// Every request is recorded before any rule applies; secrets are not recorded,
// only whether they matched (auth: true/false). Invalid requests get the 422
// Alpaca gives and are listed in `invalid` of GET /__requests' entries.
'use strict';
const http = require('http');
const crypto = require('crypto');
const path = require('path');

const SDK_DIR = process.env.ALPACA_SDK_DIR ||
	path.join(__dirname, '..', '..', 'alpaca', 'node_modules', '@alpacahq', 'alpaca-trade-api');
let sdk;
try {
	sdk = require(SDK_DIR);
} catch (e) {
	process.stderr.write(`alpaca_fixture: the SDK is not installed (${SDK_DIR}): ` +
		'run npm ci in tests/alpaca\n');
	process.exit(2);
}
const T = sdk.trading, MD = sdk.marketData;
const values = (e) => new Set(Object.values(e).filter((v) => v !== ''));
const ORDER_STATUS = values(T.OrderStatus), ORDER_TYPE = values(T.OrderType);
const TIF = values(T.TimeInForce), SIDE = values(T.OrderSide), ORDER_CLASS = values(T.OrderClass);
const ACCOUNT_STATUS = values(T.AccountStatus), FEEDS = values(MD.StockHistoricalFeed);
const POST_ORDER_FIELDS = new Set(Object.keys(T.PostOrderRequestToJSON({})));

const arg = (name, dflt) => {
	const i = process.argv.indexOf('--' + name);
	return i >= 0 ? process.argv[i + 1] : dflt;
};
const KEY = arg('key', 'test-key');
const SECRET = arg('secret', 'test-secret');

let st, requests, rules, limits, clock;
function reset() {
	st = { cash: 10000, prices: {}, positions: {}, assets: {}, fill: 'fill', blocked: false,
		account: {}, sequence: null, orders: [] };
	requests = [];
	rules = [];
	limits = [];
	clock = Date.now();
}
reset();

// Distinct, increasing submission times (paging by `after` needs an order).
const stamp = () => { clock = Math.max(clock + 1, Date.now()); return new Date(clock).toISOString(); };
const money = (n) => (Math.round(n * 1e6) / 1e6).toString();
const now = () => new Date().toISOString();
const quote = (sym) => {
	const p = st.prices[sym];
	return p === undefined ? null : { bid: +(p - 0.05).toFixed(2), ask: +(p + 0.05).toFixed(2) };
};
const asset = (sym) => st.assets[sym] || { tradable: true, fractionable: true };
// Shares not locked by open sell orders (anyone's), as Alpaca's qty_available.
const available = (sym) => (st.positions[sym] || 0) - st.orders
	.filter((o) => o.symbol === sym && o.side === 'sell' && !FINAL.includes(o.status))
	.reduce((s, o) => s + o.qty - o.filled_qty, 0);

// An answer in the SDK's shape: a field the model lacks is the fixture's bug.
function shape(model, j) {
	const out = model.to(model.from(j));
	for (const k of Object.keys(j))
		if (!(k in out)) throw new Error(`field ${k} is not in the SDK's ${model.name}`);
	return JSON.parse(JSON.stringify(out));
}
const M = {
	order: { name: 'Order', from: T.OrderFromJSON, to: T.OrderToJSON },
	account: { name: 'Account', from: T.AccountFromJSON, to: T.AccountToJSON },
	position: { name: 'Position', from: T.PositionFromJSON, to: T.PositionToJSON },
	asset: { name: 'Assets', from: T.AssetsFromJSON, to: T.AssetsToJSON },
	clock: { name: 'LegacyClock', from: T.LegacyClockFromJSON, to: T.LegacyClockToJSON },
	day: { name: 'LegacyCalendarDay', from: T.LegacyCalendarDayFromJSON, to: T.LegacyCalendarDayToJSON },
	bars: { name: 'StockBarsResp', from: MD.StockBarsRespFromJSON, to: MD.StockBarsRespToJSON },
	quotes: { name: 'StockLatestQuotesResp', from: MD.StockLatestQuotesRespFromJSON,
		to: MD.StockLatestQuotesRespToJSON },
};

function send(res, status, body, headers) {
	const text = body === undefined || body === null ? '' :
		typeof body === 'string' ? body : JSON.stringify(body);
	res.writeHead(status, Object.assign({ 'Content-Type': 'application/json' }, headers || {}));
	res.end(text);
}

function orderJson(o) {
	const j = {
		id: o.id, client_order_id: o.client_order_id, symbol: o.symbol, side: o.side,
		type: o.type, order_type: o.type, time_in_force: o.time_in_force || 'day',
		order_class: o.order_class || 'simple', asset_class: 'us_equity',
		qty: o.qty === null ? null : money(o.qty), notional: o.notional === null ? null : money(o.notional),
		limit_price: o.limit_price == null ? null : money(o.limit_price),
		stop_price: o.stop_price == null ? null : money(o.stop_price),
		trail_percent: o.trail_percent == null ? null : money(o.trail_percent),
		hwm: o.trail_percent == null ? null : money((st.prices[o.symbol] || 1) * 1.01),
		filled_qty: money(o.filled_qty),
		filled_avg_price: o.filled_qty > 0 ? money(o.filled_avg_price) : null,
		status: o.status, created_at: o.created_at, updated_at: now(), submitted_at: o.created_at,
		filled_at: o.status === 'filled' ? o.filled_at : null, extended_hours: false,
		replaced_by: o.replaced_by || null, replaces: o.replaces || null,
		replaced_at: o.replaced_at || null,
		legs: o.legs ? o.legs.map(orderJson) : null,
	};
	return shape(M.order, j);
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

const FINAL = ['filled', 'canceled', 'rejected', 'expired', 'replaced'];

// One step of a status sequence (an order read once more). Fills happen at
// the limit price or the far side of the quote.
function step(o) {
	if (o.status === 'pending_cancel') {
		// Seen once as pending_cancel, canceled from the read after.
		if (o.cancel_seen) { o.status = 'canceled'; o.seq = []; }
		o.cancel_seen = true;
		return;
	}
	if (!o.seq || o.seq.length === 0 || FINAL.includes(o.status)) return;
	const next = o.seq.shift();
	const q = quote(o.symbol) || { bid: 1, ask: 1 };
	const px = o.limit_price || (o.side === 'buy' ? q.ask : q.bid);
	if (next === 'partially_filled') {
		fill(o, Math.floor(o.qty / 2 * 1e6) / 1e6 - o.filled_qty, px);
	} else if (next === 'filled') {
		fill(o, o.qty - o.filled_qty, px);
	} else if (next === 'calculated') {
		// Done for the day with half filled: settlement pending, not a full fill.
		if (o.filled_qty === 0) fill(o, Math.floor(o.qty / 2 * 1e6) / 1e6, px);
		o.status = 'calculated';
	} else if (next === 'replaced') {
		// A replacement (e.g. a corporate action) goes on working as a new order.
		const n = Object.assign({}, o, { id: crypto.randomUUID(), client_order_id: crypto.randomUUID(),
			replaces: o.id, replaced_by: null, replaced_at: null, created_at: stamp(),
			qty: o.qty - o.filled_qty, filled_qty: 0, filled_avg_price: 0, status: 'new',
			seq: o.seq.slice() });
		o.seq = [];
		o.status = 'replaced';
		o.replaced_by = n.id;
		o.replaced_at = now();
		st.orders.push(n);
	} else {
		o.status = next;
	}
}

// Fill per the mode (no sequence): fill (at the limit or the far side), cross
// (limits only when they reach the far side), new (never), partial (half,
// then stuck), reject (status rejected).
function work(o) {
	if (o.foreign) return;
	if (o.seq) return step(o);
	const q = quote(o.symbol);
	if (!q || FINAL.includes(o.status) || o.stuck) return;
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

const decimalText = (v) => (typeof v === 'string' || typeof v === 'number') &&
	/^\d+(\.\d{1,9})?$/.test(String(v)) && parseFloat(v) > 0;
const bad = (msg) => [422, { code: 42210000, message: msg }];

// POST /v2/orders validation, from the SDK's PostOrderRequest and the docs.
function validateOrder(b) {
	for (const k of Object.keys(b))
		if (!POST_ORDER_FIELDS.has(k)) return bad(`unknown field ${k}`);
	if (typeof b.symbol !== 'string' || b.symbol === '') return bad('symbol is required');
	if (!SIDE.has(b.side)) return bad(`invalid side ${b.side}`);
	if (!ORDER_TYPE.has(b.type)) return bad(`invalid order type ${b.type}`);
	if (!TIF.has(b.time_in_force)) return bad(`invalid time_in_force ${b.time_in_force}`);
	if (b.order_class !== undefined && !ORDER_CLASS.has(b.order_class))
		return bad(`invalid order_class ${b.order_class}`);
	if ((b.qty === undefined) === (b.notional === undefined))
		return bad('qty or notional is required, not both');
	if (b.qty !== undefined && !decimalText(b.qty)) return bad(`invalid qty ${b.qty}`);
	if (b.notional !== undefined && !decimalText(b.notional)) return bad(`invalid notional ${b.notional}`);
	if (b.client_order_id !== undefined && (typeof b.client_order_id !== 'string' ||
	    b.client_order_id.length > 128))
		return bad('client_order_id must be a string of at most 128 characters');
	if (['limit', 'stop_limit'].includes(b.type) && !decimalText(b.limit_price))
		return bad('limit_price is required for limit orders');
	if (['stop', 'stop_limit'].includes(b.type) && !decimalText(b.stop_price))
		return bad('stop_price is required for stop orders');
	if (b.type === 'market' && (b.limit_price !== undefined || b.stop_price !== undefined))
		return bad('market orders take no limit_price or stop_price');
	const fractional = b.qty !== undefined && parseFloat(b.qty) % 1 !== 0;
	if ((fractional || b.notional !== undefined) && (b.type !== 'market' || b.time_in_force !== 'day'))
		return bad('fractional orders must be market orders with time_in_force day');
	if ((fractional || b.notional !== undefined) && !asset(b.symbol).fractionable)
		return bad('requested asset is not fractionable');
	return null;
}

function accountRefusal() {
	const a = st.account;
	if (st.blocked || a.trading_blocked || a.account_blocked)
		return [403, { code: 40310000, message: 'account is not authorized to trade' }];
	if (a.trade_suspended_by_user)
		return [403, { code: 40310000, message: 'trading is suspended by the user' }];
	if (a.status && a.status !== 'ACTIVE')
		return [403, { code: 40310000, message: `account status is ${a.status}` }];
	return null;
}

function createOrder(b) {
	const invalid = validateOrder(b);
	if (invalid) return invalid;
	const refused = accountRefusal();
	if (refused) return refused;
	if (!b.client_order_id) b.client_order_id = crypto.randomUUID();
	if (st.orders.some((o) => o.client_order_id === b.client_order_id))
		return [422, { code: 40010001, message: 'client_order_id must be unique' }];
	const a = asset(b.symbol);
	if (st.prices[b.symbol] === undefined && !st.assets[b.symbol])
		return [422, { code: 42210000, message: `asset "${b.symbol}" not found` }];
	if (!a.tradable) return [422, { code: 42210000, message: `asset ${b.symbol} is not tradable` }];
	const qty = b.qty !== undefined ? parseFloat(b.qty) : null;
	const q = quote(b.symbol);
	if (b.side === 'sell' && qty > available(b.symbol) + 1e-9)
		return [403, { code: 40310000, message: `insufficient qty available for order (requested: ${qty}, available: ${money(available(b.symbol))})` }];
	if (b.side === 'buy' && q && qty !== null && qty * (b.limit_price ? parseFloat(b.limit_price) : q.ask) > st.cash + 1e-9)
		return [403, { code: 40310000, message: 'insufficient buying power' }];
	const o = {
		id: crypto.randomUUID(), client_order_id: b.client_order_id, symbol: b.symbol, side: b.side,
		type: b.type, time_in_force: b.time_in_force,
		qty: qty !== null ? qty : parseFloat(b.notional) / (q ? q.ask : 1),
		notional: b.notional !== undefined ? parseFloat(b.notional) : null,
		limit_price: b.limit_price ? parseFloat(b.limit_price) : null,
		filled_qty: 0, filled_avg_price: 0, status: st.sequence ? 'accepted' : 'new',
		created_at: stamp(), seq: st.sequence ? st.sequence.slice() : null,
	};
	if (o.seq && o.seq[0] === 'accepted') o.seq.shift();
	st.orders.push(o);
	work(o);
	return [200, orderJson(o)];
}

// Someone else's open orders: manual stops, trailing stops, brackets.
function addForeign(f) {
	for (let i = 0; i < (f.count || 1); i++) {
		const o = {
			id: crypto.randomUUID(), client_order_id: f.client_order_id || crypto.randomUUID(),
			symbol: f.symbol, side: f.side || 'sell', type: f.type || 'stop',
			time_in_force: f.time_in_force || 'gtc', order_class: f.order_class || 'simple',
			qty: f.qty || 1, notional: null, limit_price: f.limit_price || null,
			stop_price: f.stop_price || null, trail_percent: f.trail_percent || null,
			filled_qty: 0, filled_avg_price: 0, status: f.status || 'new', created_at: stamp(),
			foreign: true,
		};
		if (!ORDER_TYPE.has(o.type) || !ORDER_STATUS.has(o.status)) throw new Error('bad foreign order');
		if (o.order_class === 'bracket' || o.order_class === 'oto' || o.order_class === 'oco') {
			const leg = (type, extra) => Object.assign({}, o, { id: crypto.randomUUID(),
				client_order_id: crypto.randomUUID(), side: o.side === 'buy' ? 'sell' : 'buy',
				type, status: 'held', legs: null, created_at: stamp() }, extra);
			o.legs = [leg('limit', { limit_price: (st.prices[o.symbol] || 100) * 1.1, stop_price: null }),
				leg('stop', { stop_price: (st.prices[o.symbol] || 100) * 0.9, limit_price: null })];
		}
		st.orders.push(o);
	}
}

function rfc3339(v) {
	return typeof v === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(v);
}

function listOrders(url) {
	const p = url.searchParams;
	const status = p.get('status') || 'open', dir = p.get('direction') || 'desc';
	const limit = p.has('limit') ? Number(p.get('limit')) : 50;
	if (!['open', 'closed', 'all'].includes(status) || !['asc', 'desc'].includes(dir) ||
	    !Number.isInteger(limit) || limit < 1 || limit > 500)
		return bad('invalid status, direction or limit (1..500)');
	for (const k of ['after', 'until'])
		if (p.has(k) && !rfc3339(p.get(k))) return bad(`${k} must be an RFC 3339 time`);
	const open = (o) => !FINAL.includes(o.status);
	let l = st.orders.filter((o) => status === 'all' || (status === 'open') === open(o));
	if (p.get('nested') === 'true') {
		const legIds = new Set(l.flatMap((o) => (o.legs || []).map((x) => x.id)));
		l = l.filter((o) => !legIds.has(o.id));
	} else {
		// Without nested, legs are listed as orders of their own.
		l = l.flatMap((o) => [Object.assign({}, o, { legs: null })].concat(o.legs || []));
	}
	if (p.has('after')) l = l.filter((o) => o.created_at > new Date(p.get('after')).toISOString());
	if (p.has('until')) l = l.filter((o) => o.created_at < new Date(p.get('until')).toISOString());
	l.sort((a, b) => (a.created_at < b.created_at ? -1 : 1) * (dir === 'asc' ? 1 : -1));
	return [200, l.slice(0, limit).map(orderJson)];
}

// Synthetic daily bars: weekdays, prices from the symbol's name.
function barsFor(sym, start, end) {
	const base = st.prices[sym] || (10 + [...sym].reduce((s, c) => s + c.charCodeAt(0), 0) % 90);
	const out = [];
	const d0 = new Date(start.toISOString().slice(0, 10) + 'T00:00:00Z');
	for (let d = d0, i = 0; d <= end; d.setUTCDate(d.getUTCDate() + 1), i++) {
		const wd = d.getUTCDay();
		if (wd === 0 || wd === 6) continue;
		const t = new Date(d.getTime() + 5 * 3600e3);
		if (t < start || t > end) continue;
		const c = base * (1 + 0.002 * Math.sin(i / 3) + 0.0005 * (i % 7));
		out.push({ t: t.toISOString(), o: c, h: c * 1.01, l: c * 0.99, c, v: 1000 + i, n: 10, vw: c });
	}
	return out;
}

function stockBars(url) {
	const p = url.searchParams;
	for (const k of ['start', 'end'])
		if (p.has(k) && !rfc3339(p.get(k))) return bad(`${k}: send an RFC 3339 time`);
	if (p.has('feed') && !FEEDS.has(p.get('feed'))) return bad(`invalid feed ${p.get('feed')}`);
	if (p.get('timeframe') !== '1Day') return bad('fixture serves timeframe=1Day only');
	const limit = p.has('limit') ? Number(p.get('limit')) : 1000;
	if (!(limit >= 1 && limit <= 10000)) return bad('limit 1..10000');
	const start = new Date(p.get('start')), end = p.has('end') ? new Date(p.get('end')) : new Date();
	const all = [];
	for (const s of (p.get('symbols') || '').split(',').filter(Boolean).sort())
		if (!/^NODATA/.test(s)) barsFor(s, start, end).forEach((b) => all.push([s, b]));
	const page = Math.min(limit, st.bars_page || 1000);
	const off = p.get('page_token') ? Number(Buffer.from(p.get('page_token'), 'base64').toString()) : 0;
	const bars = {};
	for (const [s, b] of all.slice(off, off + page)) (bars[s] ||= []).push(b);
	// Alpaca ends paging with null; st.empty_token makes the last page say "".
	const next = off + page < all.length ? Buffer.from(String(off + page)).toString('base64') :
		st.empty_token ? '' : null;
	return [200, shape(M.bars, { bars, next_page_token: next })];
}

function api(req, res, url, body) {
	const m = req.method, p = url.pathname;
	let r;
	if (m === 'GET' && p === '/v2/account') {
		const mv = Object.entries(st.positions).reduce((s, [k, q]) => s + q * (st.prices[k] || 0), 0);
		const reserved = st.orders.filter((o) => ['new', 'partially_filled'].includes(o.status) && o.side === 'buy' && !o.foreign)
			.reduce((s, o) => s + (o.qty - o.filled_qty) * (o.limit_price || 0), 0);
		const a = st.account;
		if (a.status && !ACCOUNT_STATUS.has(a.status)) throw new Error('bad account status');
		return send(res, 200, shape(M.account, {
			id: 'acct-1', account_number: 'PA0000000', status: a.status || 'ACTIVE', currency: 'USD',
			cash: money(st.cash), buying_power: money(Math.max(0, st.cash - reserved)),
			equity: money(st.cash + mv), portfolio_value: money(st.cash + mv),
			last_equity: money(st.cash + mv), trading_blocked: st.blocked || !!a.trading_blocked,
			account_blocked: !!a.account_blocked, transfers_blocked: false,
			trade_suspended_by_user: !!a.trade_suspended_by_user,
			shorting_enabled: false, multiplier: '1',
		}));
	}
	if (m === 'GET' && p === '/v2/positions')
		return send(res, 200, Object.entries(st.positions).map(([k, q]) => shape(M.position, {
			asset_id: crypto.createHash('md5').update(k).digest('hex'), symbol: k, exchange: 'NYSE',
			asset_class: 'us_equity', qty: money(q), qty_available: money(Math.max(0, available(k))), side: 'long',
			avg_entry_price: money(st.prices[k] || 0), market_value: money(q * (st.prices[k] || 0)),
			current_price: money(st.prices[k] || 0),
		})));
	if (m === 'GET' && p === '/v2/clock')
		return send(res, 200, Object.assign(shape(M.clock, { timestamp: '2026-01-02T15:15:00.123Z',
			is_open: true, next_open: '2026-01-05T14:30:00Z', next_close: '2026-01-02T21:00:00Z' }),
		{ timestamp: '2026-01-02T10:15:00.123456789-05:00' }));
	if (m === 'GET' && p === '/v2/calendar') {
		for (const k of ['start', 'end'])
			if (url.searchParams.has(k) && !rfc3339(url.searchParams.get(k)))
				return send(res, ...bad(`${k}: send an RFC 3339 time`));
		return send(res, 200, [{ date: '2026-01-02', open: '09:30', close: '16:00', session_open: '0400',
			session_close: '2000', settlement_date: '2026-01-05' },
		{ date: '2026-11-27', open: '09:30', close: '13:00', session_open: '0400',
			session_close: '1700', settlement_date: '2026-11-30' }].map((d) => shape(M.day, d)));
	}
	if (m === 'GET' && (r = p.match(/^\/v2\/assets\/(.+)$/))) {
		const sym = decodeURIComponent(r[1]);
		if (st.prices[sym] === undefined && !st.assets[sym]) return send(res, 404, { code: 40410000, message: 'asset not found' });
		return send(res, 200, shape(M.asset, Object.assign({ id: crypto.randomUUID(), symbol: sym,
			class: 'us_equity', exchange: 'NYSE', status: 'active' }, asset(sym))));
	}
	if (m === 'GET' && p === '/v2/stocks/quotes/latest') {
		const out = {};
		for (const s of (url.searchParams.get('symbols') || '').split(',')) {
			const q = quote(s);
			if (q) out[s] = { t: now(), bp: q.bid, ap: q.ask, bs: 100, as: 100, bx: 'V', ax: 'V', c: ['R'], z: 'A' };
		}
		return send(res, 200, shape(M.quotes, { quotes: out }));
	}
	if (m === 'GET' && p === '/v2/stocks/bars') return send(res, ...stockBars(url));
	if (m === 'POST' && p === '/v2/orders') {
		let b;
		try { b = JSON.parse(body); } catch (e) { return send(res, 400, { message: 'bad json' }); }
		const [s, j] = createOrder(b);
		if (s === 422 && j.code === 42210000) requests[requests.length - 1].invalid = j.message;
		return send(res, s, j);
	}
	if (m === 'GET' && p === '/v2/orders:by_client_order_id') {
		const o = st.orders.find((x) => x.client_order_id === url.searchParams.get('client_order_id'));
		st.orders.forEach(work);
		return o ? send(res, 200, orderJson(o)) : send(res, 404, { code: 40410000, message: 'order not found' });
	}
	if (m === 'GET' && p === '/v2/orders') {
		st.orders.forEach(work);
		return send(res, ...listOrders(url));
	}
	if ((r = p.match(/^\/v2\/orders\/([^/]+)$/))) {
		const o = st.orders.find((x) => x.id === r[1]);
		if (!o) return send(res, 404, { code: 40410000, message: 'order not found' });
		if (m === 'GET') { work(o); return send(res, 200, orderJson(o)); }
		if (m === 'DELETE') {
			if (FINAL.includes(o.status))
				return send(res, 422, { code: 42210000, message: `order is not cancelable: ${o.status}` });
			// A sequenced order passes through pending_cancel (read once more).
			o.status = o.seq ? 'pending_cancel' : 'canceled';
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
	// Every order as the API shows it: a tally shows a leg's states and fills.
	if (req.method === 'GET' && p === '/__orders') return send(res, 200, st.orders.map(orderJson));
	if (req.method === 'POST' && p === '/__reset') { reset(); return send(res, 200, {}); }
	if (req.method === 'POST' && p === '/__state') {
		const b = JSON.parse(body || '{}');
		for (const k of ['cash', 'fill', 'blocked', 'sequence', 'bars_page', 'empty_token'])
			if (b[k] !== undefined) st[k] = b[k];
		for (const k of ['prices', 'positions', 'assets', 'account']) Object.assign(st[k], b[k] || {});
		if (st.sequence) for (const s of st.sequence)
			if (!ORDER_STATUS.has(s)) return send(res, 400, { message: `not an SDK OrderStatus: ${s}` });
		for (const f of b.foreign || []) addForeign(f);
		return send(res, 200, {});
	}
	if (req.method === 'POST' && p === '/__script') {
		for (const r of JSON.parse(body || '[]')) rules.push(Object.assign({ times: 1 }, r));
		return send(res, 200, {});
	}
	if (req.method === 'POST' && p === '/__ratelimit') {
		const b = JSON.parse(body || '{}');
		// A date has whole seconds: the window ends on one.
		const until = Math.ceil((Date.now() + (b.seconds || 1) * 1000) / 1000) * 1000;
		limits.push({ path: b.path || '/', until, form: b.form || 'seconds' });
		return send(res, 200, { until: new Date(until).toISOString() });
	}
	return send(res, 404, { message: 'no such control route' });
}

function limited(res, url) {
	const l = limits.find((x) => url.pathname.startsWith(x.path) && Date.now() < x.until);
	if (!l) return false;
	const header = l.form === 'date' ? new Date(l.until).toUTCString() :
		String(Math.ceil((l.until - Date.now()) / 1000));
	send(res, 429, { message: 'too many requests' }, { 'Retry-After': header });
	return true;
}

const server = http.createServer((req, res) => {
	let body = '';
	req.on('data', (c) => { body += c; });
	req.on('end', () => {
		const url = new URL(req.url, 'http://fixture');
		try {
			if (url.pathname.startsWith('/__')) return control(req, res, url, body);
			const auth = req.headers['apca-api-key-id'] === KEY && req.headers['apca-api-secret-key'] === SECRET;
			requests.push({ method: req.method, path: url.pathname, query: url.search, body, auth });
			if (!auth) return send(res, 401, { message: 'unauthorized' });
			if (limited(res, url)) return;
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
		} catch (e) {
			process.stderr.write(`alpaca_fixture: ${e.stack}\n`);
			send(res, 500, { message: `fixture error: ${e.message}` });
		}
	});
});
server.listen(parseInt(arg('port', '0'), 10), '127.0.0.1', () => {
	process.stdout.write(`LISTENING ${server.address().port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
