'use strict';
// Structural checks of terraform/ without the terraform binary: every .tf file is
// parsed with @cdktf/hcl2json and the facts the daemon depends on are asserted.
// Writes a fixture (JSON) describing the resources to create in the emulator.
//
// usage: node check-terraform.cjs --tf-dir DIR --modules DIR --events FILE --fixture OUT
// Exit 0: all checks passed; 1: some failed; 2: could not run.

const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { matches: builtinMatches } = require('./pattern-match.cjs');

function parseArgs(argv) {
	const a = {};
	for (let i = 0; i < argv.length; i += 2) {
		if (!argv[i].startsWith('--') || i + 1 >= argv.length)
			throw new Error(`bad argument ${argv[i]}`);
		a[argv[i].slice(2)] = argv[i + 1];
	}
	for (const k of ['tf-dir', 'modules', 'events', 'fixture'])
		if (!a[k])
			throw new Error(`--${k} is required`);
	return a;
}

let passed = 0;
let failed = 0;
function check(name, cond, detail) {
	if (cond) {
		passed++;
		console.log(`ok   - ${name}`);
	} else {
		failed++;
		console.log(`FAIL - ${name}${detail !== undefined ? `: ${typeof detail === 'string' ? detail : JSON.stringify(detail)}` : ''}`);
	}
	return cond;
}

// The matcher: the daemon's own when ALCHEMISERD_PATTERN_MATCHER names it.
function makeMatcher() {
	const cmd = process.env.ALCHEMISERD_PATTERN_MATCHER;
	if (!cmd)
		return { name: 'built-in matcher (tests/ops/pattern-match.cjs)', fn: builtinMatches };
	const argv = cmd.trim().split(/\s+/);
	return {
		name: `external matcher: ${cmd}`,
		fn(pattern, event) {
			const r = spawnSync(argv[0], [...argv.slice(1), JSON.stringify(pattern), JSON.stringify(event)],
				{ encoding: 'utf8' });
			if (r.status === 0)
				return true;
			if (r.status === 1)
				return false;
			throw new Error(`${cmd}: status ${r.status}: ${r.stderr || r.error}`);
		},
	};
}

// Merge the per-file JSON of hcl2json into one module view.
function mergeModule(parts) {
	const m = { variable: {}, output: {}, locals: {}, resource: {}, data: {}, terraform: [] };
	for (const p of parts) {
		for (const [k, v] of Object.entries(p)) {
			if (k === 'locals') {
				for (const block of v)
					Object.assign(m.locals, block);
			} else if (k === 'terraform') {
				m.terraform.push(...v);
			} else if (k === 'variable' || k === 'output') {
				for (const [name, blocks] of Object.entries(v))
					m[k][name] = blocks[0];
			} else if (k === 'resource' || k === 'data') {
				for (const [type, byName] of Object.entries(v)) {
					m[k][type] = m[k][type] || {};
					for (const [name, blocks] of Object.entries(byName))
						m[k][type][name] = blocks[0];
				}
			} else {
				m[k] = v;
			}
		}
	}
	return m;
}

const one = (v) => (Array.isArray(v) ? v[0] : v);
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const sorted = (xs) => [...xs].sort();

async function main() {
	const args = parseArgs(process.argv.slice(2));
	const hcl = require(require.resolve('@cdktf/hcl2json', { paths: [args.modules] }));
	const catalogue = JSON.parse(fs.readFileSync(args.events, 'utf8'));
	const events = catalogue.events;
	const daemon = catalogue.daemon;
	const matcher = makeMatcher();

	// --- parse ---------------------------------------------------------------
	const files = fs.readdirSync(args['tf-dir']).filter((f) => f.endsWith('.tf')).sort();
	check('terraform/ has .tf files', files.length > 0, files);
	const parts = [];
	let allText = '';
	for (const f of files) {
		const full = path.join(args['tf-dir'], f);
		const text = fs.readFileSync(full, 'utf8');
		allText += text + '\n';
		try {
			parts.push(await hcl.parse(f, text));
			check(`parse ${f}`, true);
		} catch (err) {
			check(`parse ${f}`, false, String(err.message || err).split('\n')[0]);
		}
	}
	const tplDir = path.join(args['tf-dir'], 'templates');
	if (fs.existsSync(tplDir))
		for (const f of fs.readdirSync(tplDir))
			allText += fs.readFileSync(path.join(tplDir, f), 'utf8') + '\n';
	const m = mergeModule(parts);
	const R = (type, name) => (m.resource[type] || {})[name];
	const D = (type, name) => (m.data[type] || {})[name];
	const V = (name) => (m.variable[name] || {}).default;

	// --- terraform block, variables, outputs ----------------------------------
	const rp = m.terraform.map((t) => one(t.required_providers)).find((x) => x && x.aws);
	check('versions.tf pins the hashicorp/aws provider', rp && rp.aws.source === 'hashicorp/aws' && !!rp.aws.version, rp);
	for (const [name, v] of Object.entries(m.variable))
		check(`variable ${name} has a type and a description`, !!v.type && !!v.description);
	for (const [name, o] of Object.entries(m.output))
		check(`output ${name} has a description`, !!o.description);
	const used = new Set([...allText.matchAll(/\bvar\.([A-Za-z0-9_]+)/g)].map((x) => x[1]));
	for (const name of used)
		check(`var.${name} is declared`, name in m.variable);
	for (const name of Object.keys(m.variable))
		check(`variable ${name} is used`, used.has(name));

	check('visibility timeout default = the daemon\'s (120 s)',
		V('visibility_timeout_seconds') === daemon.visibility_timeout_seconds, V('visibility_timeout_seconds'));
	check('max_receive_count default 5', V('max_receive_count') === 5, V('max_receive_count'));
	check('archive_retention_days default 365', V('archive_retention_days') === 365, V('archive_retention_days'));
	check('schedule_expression default cron(35 9 ? * MON-FRI *)',
		V('schedule_expression') === 'cron(35 9 ? * MON-FRI *)', V('schedule_expression'));
	check('schedule_timezone default America/New_York', V('schedule_timezone') === 'America/New_York', V('schedule_timezone'));
	let input = null;
	try { input = JSON.parse(V('schedule_input')); } catch (e) { /* checked below */ }
	check('schedule_input default is the trade command', same(input, daemon.schedule_command), V('schedule_input'));
	check('instance_count default 0', V('instance_count') === 0, V('instance_count'));

	// Resolve "${var.x}" in names with the variables' defaults (nothing else allowed).
	function resolve(s) {
		const out = String(s).replace(/\$\{var\.([A-Za-z0-9_]+)\}/g, (_, n) => {
			if (!(n in m.variable) || m.variable[n].default === undefined)
				throw new Error(`cannot resolve var.${n}`);
			return String(m.variable[n].default);
		});
		if (out.includes('${'))
			throw new Error(`cannot resolve ${s}`);
		return out;
	}

	// --- rules ---------------------------------------------------------------
	const patterns = m.locals.event_rule_patterns || {};
	check('local.event_rule_patterns has one rule per daemon event type',
		Object.keys(patterns).length === events.length, Object.keys(patterns));
	console.log(`# event patterns evaluated with the ${matcher.name}`);
	const ev = (source, dt, extra) => ({ version: '0', id: '00000000-0000-4000-8000-000000000000',
		'detail-type': dt, source, account: '123456789012', time: '2026-11-23T14:35:00Z',
		region: 'us-east-1', resources: [], detail: {}, ...(extra || {}) });
	for (const e of events) {
		const hits = Object.entries(patterns).filter(([, p]) => matcher.fn(p, ev(e.source, e.detail_type)));
		check(`${e.detail_type} from ${e.source} is matched by exactly one rule`, hits.length === 1,
			hits.map(([k]) => k));
		const replay = Object.entries(patterns).filter(([, p]) =>
			matcher.fn(p, ev(e.source, e.detail_type, { 'replay-name': 'r1' })));
		check(`${e.detail_type} replayed from the archive is still delivered`, replay.length === 1);
		const wrongSource = Object.entries(patterns).filter(([, p]) =>
			matcher.fn(p, ev('alchemiser.elsewhere', e.detail_type)));
		check(`${e.detail_type} from another source is not delivered`, wrongSource.length === 0,
			wrongSource.map(([k]) => k));
	}
	for (const [key, p] of Object.entries(patterns)) {
		const hits = events.filter((e) => matcher.fn(p, ev(e.source, e.detail_type)));
		check(`rule ${key} matches exactly one daemon event type`, hits.length === 1,
			hits.map((e) => e.detail_type));
	}
	const strays = [ev('alchemiser.strategy', 'SomethingElse'), ev('aws.events', 'Scheduled Event'),
		ev('com.example', 'WorkflowStarted')];
	for (const s of strays) {
		const hits = Object.entries(patterns).filter(([, p]) => matcher.fn(p, s));
		check(`unrelated event (${s.source}, ${s['detail-type']}) is not delivered`, hits.length === 0,
			hits.map(([k]) => k));
	}

	const rule = R('aws_cloudwatch_event_rule', 'daemon') || {};
	check('rules are made from local.event_rule_patterns', rule.for_each === '${local.event_rule_patterns}', rule.for_each);
	check('rule pattern is the literal pattern (jsonencode(each.value))',
		rule.event_pattern === '${jsonencode(each.value)}', rule.event_pattern);
	check('rules live on the module\'s bus', rule.event_bus_name === '${aws_cloudwatch_event_bus.this.name}');
	check('rules are enabled', rule.state === undefined || rule.state === 'ENABLED', rule.state);
	const tgt = R('aws_cloudwatch_event_target', 'daemon') || {};
	check('one target per rule', tgt.for_each === '${local.event_rule_patterns}' &&
		tgt.rule === '${aws_cloudwatch_event_rule.daemon[each.key].name}', tgt);
	check('targets are the work queue', tgt.arn === '${aws_sqs_queue.work.arn}', tgt.arn);
	check('targets are on the module\'s bus', tgt.event_bus_name === '${aws_cloudwatch_event_bus.this.name}');
	check('targets deliver the whole event (no input, input_path, input_transformer)',
		!('input' in tgt) && !('input_path' in tgt) && !('input_transformer' in tgt));
	check('SQS targets take no role (the queue policy authorises them)', !('role_arn' in tgt));
	check('undeliverable events go to the DLQ', one(tgt.dead_letter_config || [{}]).arn === '${aws_sqs_queue.dlq.arn}');

	// --- queue policy --------------------------------------------------------
	check('local.rule_arns lists the rules\' ARNs',
		/aws_cloudwatch_event_rule\.daemon\s*:\s*\w+\s*=>|for\s+\w+\s+in\s+aws_cloudwatch_event_rule\.daemon\s*:\s*\w+\.arn/.test(m.locals.rule_arns || ''),
		m.locals.rule_arns);
	for (const [doc, queue] of [['work_queue', 'work'], ['dlq', 'dlq']]) {
		const pd = D('aws_iam_policy_document', doc) || {};
		const st = (pd.statement || []).find((s) => (s.effect || 'Allow') === 'Allow' &&
			same(s.actions, ['sqs:SendMessage']));
		const pr = st && one(st.principals);
		const cond = st && one(st.condition);
		check(`${queue} queue policy lets EventBridge send`, !!st && pr.type === 'Service' &&
			same(pr.identifiers, ['events.amazonaws.com']) && same(st.resources, [`\${aws_sqs_queue.${queue}.arn}`]), st);
		check(`${queue} queue policy is conditioned on the rule ARNs`, !!cond && cond.test === 'ArnEquals' &&
			cond.variable === 'aws:SourceArn' && cond.values === '${local.rule_arns}', cond);
		const qp = R('aws_sqs_queue_policy', queue) || {};
		check(`${queue} queue policy is attached`, qp.queue_url === `\${aws_sqs_queue.${queue}.id}` &&
			qp.policy === `\${data.aws_iam_policy_document.${doc}.json}`, qp);
	}

	// --- queues --------------------------------------------------------------
	const work = R('aws_sqs_queue', 'work') || {};
	const dlq = R('aws_sqs_queue', 'dlq') || {};
	check('work queue visibility timeout = var.visibility_timeout_seconds',
		work.visibility_timeout_seconds === '${var.visibility_timeout_seconds}', work.visibility_timeout_seconds);
	check('work queue long polls (20 s)', work.receive_wait_time_seconds === 20, work.receive_wait_time_seconds);
	const rd = String(work.redrive_policy || '');
	check('work queue redrives to the DLQ after var.max_receive_count receives',
		/deadLetterTargetArn\s*=\s*aws_sqs_queue\.dlq\.arn/.test(rd) && /maxReceiveCount\s*=\s*var\.max_receive_count/.test(rd), rd);
	check('DLQ keeps messages longer than the work queue',
		V('dlq_message_retention_seconds') > V('message_retention_seconds'));
	const rap = R('aws_sqs_queue_redrive_allow_policy', 'dlq') || {};
	check('only the work queue may use the DLQ', /byQueue/.test(rap.redrive_allow_policy || '') &&
		/aws_sqs_queue\.work\.arn/.test(rap.redrive_allow_policy || ''), rap);

	// --- archive -------------------------------------------------------------
	const arch = R('aws_cloudwatch_event_archive', 'this') || {};
	check('archive reads the module\'s bus', arch.event_source_arn === '${aws_cloudwatch_event_bus.this.arn}');
	check('archive retention = var.archive_retention_days', arch.retention_days === '${var.archive_retention_days}');
	const ap = m.locals.archive_pattern;
	check('archive keeps every daemon event', !!ap && arch.event_pattern === '${jsonencode(local.archive_pattern)}' &&
		events.every((e) => matcher.fn(ap, ev(e.source, e.detail_type))), ap);

	// --- schedule ------------------------------------------------------------
	const sch = R('aws_scheduler_schedule', 'trade') || {};
	const st = one(sch.target) || {};
	check('schedule uses var.schedule_expression in var.schedule_timezone',
		sch.schedule_expression === '${var.schedule_expression}' &&
		sch.schedule_expression_timezone === '${var.schedule_timezone}', sch);
	check('schedule fires on time (flexible window OFF)', one(sch.flexible_time_window || [{}]).mode === 'OFF');
	check('schedule sends var.schedule_input to the work queue', st.arn === '${aws_sqs_queue.work.arn}' &&
		st.input === '${var.schedule_input}', st);
	check('schedule runs with its own role', st.role_arn === '${aws_iam_role.scheduler.arn}', st.role_arn);
	const sp = D('aws_iam_policy_document', 'scheduler') || {};
	const spActions = (sp.statement || []).flatMap((s) => s.actions);
	const spRes = (sp.statement || []).flatMap((s) => s.resources);
	check('scheduler role may only send to the work queue and DLQ',
		spActions.every((a) => a === 'sqs:SendMessage') &&
		same(sorted(spRes), sorted(['${aws_sqs_queue.work.arn}', '${aws_sqs_queue.dlq.arn}'])), { spActions, spRes });
	const sa = one((D('aws_iam_policy_document', 'scheduler_assume') || {}).statement || [{}]);
	check('scheduler role is assumable by EventBridge Scheduler only',
		same(one(sa.principals || [{}]).identifiers, ['scheduler.amazonaws.com']));

	// --- table ---------------------------------------------------------------
	const tbl = R('aws_dynamodb_table', 'idempotency') || {};
	check('idempotency table is on-demand', tbl.billing_mode === 'PAY_PER_REQUEST', tbl.billing_mode);
	check(`idempotency table key is ${daemon.idempotency_hash_key} (S)`, tbl.hash_key === daemon.idempotency_hash_key &&
		same(tbl.attribute, [{ name: daemon.idempotency_hash_key, type: 'S' }]) && !('range_key' in tbl), tbl.attribute);
	const ttl = one(tbl.ttl || [{}]);
	check(`idempotency table TTL on ${daemon.idempotency_ttl_attribute}`,
		ttl.attribute_name === daemon.idempotency_ttl_attribute && ttl.enabled === true, ttl);

	// --- daemon IAM ----------------------------------------------------------
	const expected = {
		'${aws_sqs_queue.work.arn}': ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage'],
		'${aws_sqs_queue.dlq.arn}': ['sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage',
			'sqs:SendMessage'],
		'${aws_cloudwatch_event_bus.this.arn}': ['events:DescribeEventBus', 'events:PutEvents'],
		'${aws_dynamodb_table.idempotency.arn}': ['dynamodb:BatchGetItem', 'dynamodb:DeleteItem', 'dynamodb:DescribeTable',
			'dynamodb:DescribeTimeToLive', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
	};
	const dp = D('aws_iam_policy_document', 'daemon') || {};
	const got = {};
	let clean = true;
	for (const s of dp.statement || []) {
		if ((s.effect || 'Allow') !== 'Allow' || s.not_actions || s.not_resources || !Array.isArray(s.resources))
			clean = false;
		for (const r of s.resources || [])
			got[r] = sorted(new Set([...(got[r] || []), ...s.actions]));
	}
	check('daemon policy: plain Allow statements with listed resources', clean && (dp.statement || []).length > 0);
	check('daemon policy: exactly the calls alchemiserd makes, on exactly its resources',
		same(Object.fromEntries(Object.entries(got).sort()), Object.fromEntries(Object.entries(expected).sort())), got);
	check('daemon policy: no wildcards', !JSON.stringify(dp).includes('*'));
	const rpol = R('aws_iam_role_policy', 'daemon') || {};
	check('daemon policy is attached to the daemon role', rpol.role === '${aws_iam_role.daemon.id}' &&
		rpol.policy === '${data.aws_iam_policy_document.daemon.json}', rpol);
	const prof = R('aws_iam_instance_profile', 'daemon') || {};
	check('instance profile carries the daemon role', prof.role === '${aws_iam_role.daemon.name}', prof.role);
	const da = one((D('aws_iam_policy_document', 'daemon_assume') || {}).statement || [{}]);
	check('daemon role is assumable by EC2', same(one(da.principals || [{}]).identifiers, ['ec2.amazonaws.com']));
	const managed = Object.keys(m.resource).filter((t) => t.startsWith('aws_iam_') &&
		/attachment/.test(t));
	check('no managed policies attached to any role', managed.length === 0, managed);

	// --- alarms --------------------------------------------------------------
	const alarms = Object.values(m.resource.aws_cloudwatch_metric_alarm || {});
	const alarmOn = (metric, queue) => alarms.find((a) => a.namespace === 'AWS/SQS' && a.metric_name === metric &&
		one(a.dimensions).QueueName === `\${aws_sqs_queue.${queue}.name}`);
	check('alarm on DLQ depth', !!alarmOn('ApproximateNumberOfMessagesVisible', 'dlq'));
	check('alarm on the age of the oldest work-queue message', !!alarmOn('ApproximateAgeOfOldestMessage', 'work'));
	check('alarms notify var.alarm_actions', alarms.length > 0 && alarms.every((a) => a.alarm_actions === '${var.alarm_actions}'));

	// --- optional instances ----------------------------------------------------
	const inst = R('aws_instance', 'daemon') || {};
	check('instances: count = var.instance_count', inst.count === '${var.instance_count}', inst.count);
	check('instances: daemon instance profile', inst.iam_instance_profile === '${aws_iam_instance_profile.daemon.name}');
	check('instances: IMDSv2 only, hop limit 1', one(inst.metadata_options || [{}]).http_tokens === 'required' &&
		one(inst.metadata_options || [{}]).http_put_response_hop_limit === 1);
	check('instances: encrypted root volume', one(inst.root_block_device || [{}]).encrypted === true);
	const ud = String(inst.user_data || '');
	const tpl = (ud.match(/templates\/([A-Za-z0-9_.-]+)/) || [])[1];
	const tplText = tpl && fs.existsSync(path.join(tplDir, tpl)) ? fs.readFileSync(path.join(tplDir, tpl), 'utf8') : '';
	check('instances: user data installs, enables and starts the daemon', /make install/.test(tplText) &&
		/systemctl enable --now alchemiserd\.service/.test(tplText) && /sha256sum -c/.test(tplText), tpl);
	// templatefile(): every ${...} in the template is one of the variables passed, and
	// the rendered script is valid sh.
	const passedVars = new Set([...((ud.match(/\{([^{}]*)\}\s*\)\s*\}$/) || [])[1] || '')
		.matchAll(/^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=/gm)].map((x) => x[1]));
	const placeholders = [...tplText.matchAll(/(^|[^$])\$\{([^}]*)\}/g)].map((x) => x[2].trim());
	check('instances: user data template uses only the variables passed to templatefile()',
		placeholders.length > 0 && placeholders.every((p) => passedVars.has(p)) &&
		[...passedVars].every((v) => placeholders.includes(v)), { placeholders, passed: [...passedVars] });
	check('instances: user data template has no template directives', !/%\{/.test(tplText));
	const rendered = tplText.replace(/(^|[^$])\$\{([^}]*)\}/g, (_, pre, name) => pre + ({
		source_url: 'https://example.org/alchemiserd-0.1.0.tar.gz',
		source_sha256: '0'.repeat(64),
		daemon_config: '[daemon]\nbackend = aws',
	}[name.trim()] || '')).replace(/\$\$\{/g, '${');
	const shn = spawnSync('sh', ['-n'], { input: rendered, encoding: 'utf8' });
	check('instances: rendered user data passes sh -n', shn.status === 0, shn.stderr);
	check('instances: rendered user data starts with a shebang', rendered.startsWith('#!/bin/sh\n'));

	// The configuration the module generates names every resource the daemon uses.
	const dc = String(m.locals.daemon_config || '');
	check('generated daemon_config names queue, DLQ, bus, table and region',
		['aws_sqs_queue.work.url', 'aws_sqs_queue.dlq.url', 'aws_cloudwatch_event_bus.this.name',
			'aws_dynamodb_table.idempotency.name', 'data.aws_region.current.name'].every((r) => dc.includes(r)) &&
		/backend = aws/.test(dc), dc);

	// --- fixture for the emulator run ------------------------------------------
	let fixture = null;
	try {
		fixture = {
			bus: resolve(R('aws_cloudwatch_event_bus', 'this').name),
			rule_prefix: resolve(rule.name.replace('${each.key}', '')),
			rules: patterns,
			work_queue: resolve(work.name),
			dlq: resolve(dlq.name),
			visibility_timeout: V('visibility_timeout_seconds'),
			receive_wait: work.receive_wait_time_seconds,
			max_receive_count: V('max_receive_count'),
			message_retention: V('message_retention_seconds'),
			dlq_message_retention: V('dlq_message_retention_seconds'),
			table: resolve(tbl.name),
			hash_key: tbl.hash_key,
			ttl_attribute: ttl.attribute_name,
			schedule_input: V('schedule_input'),
			schedule_expression: V('schedule_expression'),
			schedule_timezone: V('schedule_timezone'),
			archive: resolve(arch.name),
			archive_pattern: ap,
			archive_retention_days: V('archive_retention_days'),
			events,
		};
		check('fixture for the emulator resolved', true);
	} catch (err) {
		check('fixture for the emulator resolved', false, err.message);
	}
	if (fixture)
		fs.writeFileSync(args.fixture, JSON.stringify(fixture, null, 2));

	console.log(`# structure: ${passed} passed, ${failed} failed`);
	process.exit(failed ? 1 : 0);
}

main().catch((err) => {
	console.error(`check-terraform: ${err.stack || err}`);
	process.exit(2);
});
