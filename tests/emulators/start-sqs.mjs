// local-aws-sqs has no CLI: PORT=... node start-sqs.mjs (127.0.0.1 only).
import { createSqsServer } from "local-aws-sqs";

const srv = await createSqsServer({ port: Number(process.env.PORT), hostname: "127.0.0.1",
                                    emulateQueueCreationLifecycle: false });
console.log(`listening ${srv.address().port}`);
