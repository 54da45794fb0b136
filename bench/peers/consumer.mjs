// The Node peer of `make bench`: sqs-consumer with a no-op handler on the
// queue QUEUE_URL at ENDPOINT (moto). Stops after N messages were handled and
// deleted (N=0: after the first empty receive) and prints its own CPU time
// (process.cpuUsage, the whole process) from start() to the end as JSON,
// with the number of SQS requests it sent.
// MODE=single: handleMessage (one DeleteMessage per message);
// MODE=batch: handleMessageBatch (one DeleteMessageBatch per receive).
import { Consumer } from "sqs-consumer";
import { SQSClient } from "@aws-sdk/client-sqs";

const n = Number(process.env.N ?? "0");
const mode = process.env.MODE ?? "single";
const sqs = new SQSClient({ endpoint: process.env.ENDPOINT, region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" } });
// HTTP requests it sends (the bench's requests-per-message column).
let requests = 0;
sqs.middlewareStack.add((next) => async (args) => { requests++; return next(args); },
    { step: "finalizeRequest", name: "benchCountRequests" });
let handled = 0;
const cpu0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
const opts = { queueUrl: process.env.QUEUE_URL, sqs, batchSize: 10, waitTimeSeconds: 1,
    shouldDeleteMessages: true };
if (mode === "batch")
	opts.handleMessageBatch = async (msgs) => msgs;
else
	opts.handleMessage = async (m) => m;
const app = Consumer.create(opts);
function finish() {
	const c = process.cpuUsage(cpu0);
	const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
	app.stop();
	console.log(JSON.stringify({ handled, requests, user_us: c.user, sys_us: c.system, wall_ms: wallMs }));
	setImmediate(() => process.exit(0));
}
app.on("message_processed", () => { if (++handled === n) finish(); });
app.on("empty", () => { if (n === 0) finish(); });
app.on("error", (e) => console.error("error", e.message));
app.on("processing_error", (e) => console.error("processing_error", e.message));
app.start();
