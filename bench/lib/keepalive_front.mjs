// keepalive_front.mjs: the keep-alive HTTP front of `make bench`. moto's
// server (Werkzeug) answers every request with "Connection: close", so a
// client pays a TCP connect per request there; the real AWS endpoints keep
// connections alive. This front listens on 127.0.0.1 only, keeps its clients'
// connections alive, and forwards each request to moto (UPSTREAM) as is,
// headers included (the SigV4 signature covers the Host header, which moto
// does not check; the body is passed through untouched).
// Bounded: at most MAX_CONN client connections, bodies up to 8 MiB, and it
// exits by itself after LIFETIME seconds (default 900) or on SIGTERM.
// Prints "listening PORT" once ready (PORT=0 picks a free one).
import http from "node:http";

const upstream = new URL(process.env.UPSTREAM ?? "http://127.0.0.1:5000");
const maxConn = Number(process.env.MAX_CONN ?? "64");
const lifetime = Number(process.env.LIFETIME ?? "900");
const maxBody = 8 * 1024 * 1024;
// Forwarded requests: one connection per request, as moto closes them anyway.
const agent = new http.Agent({ keepAlive: false });
let requests = 0;
// Requests by X-Amz-Target, printed at the end (what a client's traffic is made of).
const byTarget = new Map();

const server = http.createServer({ keepAliveTimeout: 60000 }, (req, res) => {
	const chunks = [];
	let size = 0;
	req.on("data", (c) => {
		size += c.length;
		if (size > maxBody) {
			res.writeHead(413, { "Content-Length": "0" });
			res.end();
			req.destroy();
			return;
		}
		chunks.push(c);
	});
	req.on("end", () => {
		if (size > maxBody)
			return;
		requests++;
		const target = String(req.headers["x-amz-target"] ?? req.method);
		byTarget.set(target, (byTarget.get(target) ?? 0) + 1);
		const body = Buffer.concat(chunks);
		const headers = { ...req.headers };
		delete headers.connection;
		delete headers["keep-alive"];
		headers["content-length"] = String(body.length);
		const up = http.request({ host: upstream.hostname, port: upstream.port, method: req.method,
		    path: req.url, headers, agent }, (ur) => {
			const out = [];
			ur.on("data", (c) => out.push(c));
			ur.on("end", () => {
				const h = { ...ur.headers };
				delete h.connection;
				delete h["keep-alive"];
				delete h["transfer-encoding"];
				const b = Buffer.concat(out);
				h["content-length"] = String(b.length);
				res.writeHead(ur.statusCode ?? 502, h);
				res.end(b);
			});
		});
		up.on("error", (e) => {
			if (!res.headersSent) {
				res.writeHead(502, { "Content-Type": "text/plain" });
				res.end(`front: ${e.message}`);
			}
		});
		up.end(body);
	});
});
server.maxConnections = maxConn;
server.headersTimeout = 30000;
// A long poll (SQS WaitTimeSeconds up to 20 s) must not be cut.
server.requestTimeout = 60000;
server.listen(Number(process.env.PORT ?? "0"), "127.0.0.1", () => {
	console.log(`listening ${server.address().port}`);
});
function stop() {
	console.error(`front: ${requests} requests forwarded`);
	for (const [t, n] of [...byTarget].sort())
		console.error(`front: ${t} ${n}`);
	server.close();
	server.closeAllConnections();
	process.exit(0);
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
setTimeout(stop, lifetime * 1000).unref();
