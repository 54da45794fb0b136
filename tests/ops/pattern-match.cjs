'use strict';
// A small EventBridge event-pattern matcher, enough for the Terraform checks:
// exact strings/numbers/booleans/null, {"prefix"}, {"suffix"}, {"equals-ignore-case"},
// {"anything-but": value|[values]|{"prefix"}}, {"exists"}, nested objects, and
// array-valued event fields (match when any element matches). Anything else throws,
// so an unsupported operator cannot pass silently.
//
// This stands in for the daemon's own matcher until it has a CLI entry point: set
// ALCHEMISERD_PATTERN_MATCHER to a command that takes PATTERN_JSON EVENT_JSON as its
// last two arguments and exits 0 on a match, 1 on no match (anything else: error),
// and check-terraform.cjs uses that instead of this file.
//
// CLI: node pattern-match.cjs PATTERN_JSON EVENT_JSON  (exit 0 match, 1 no match, 2 error)

function isObj(v) {
	return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function matchLeaf(cond, present, value) {
	if (!isObj(cond)) {
		// Plain value: exact, type-sensitive.
		return present && value === cond;
	}
	const keys = Object.keys(cond);
	if (keys.length !== 1)
		throw new Error(`pattern operator object must have one key: ${JSON.stringify(cond)}`);
	const op = keys[0];
	const arg = cond[op];
	switch (op) {
	case 'exists':
		return arg ? present : !present;
	case 'prefix':
		if (isObj(arg) && 'equals-ignore-case' in arg)
			return present && typeof value === 'string' &&
				value.toLowerCase().startsWith(String(arg['equals-ignore-case']).toLowerCase());
		return present && typeof value === 'string' && value.startsWith(arg);
	case 'suffix':
		if (isObj(arg) && 'equals-ignore-case' in arg)
			return present && typeof value === 'string' &&
				value.toLowerCase().endsWith(String(arg['equals-ignore-case']).toLowerCase());
		return present && typeof value === 'string' && value.endsWith(arg);
	case 'equals-ignore-case':
		return present && typeof value === 'string' && value.toLowerCase() === String(arg).toLowerCase();
	case 'anything-but':
		if (!present)
			return false;
		if (Array.isArray(arg))
			return !arg.some((a) => a === value);
		if (isObj(arg))
			return !matchLeaf(arg, present, value);
		return value !== arg;
	default:
		throw new Error(`unsupported pattern operator '${op}'`);
	}
}

function matchField(conds, present, value) {
	if (!Array.isArray(conds))
		throw new Error(`pattern leaf must be an array: ${JSON.stringify(conds)}`);
	if (conds.length === 0)
		throw new Error('pattern leaf array must not be empty');
	const values = present && Array.isArray(value) ? value : [value];
	if (present && Array.isArray(value) && value.length === 0)
		return conds.some((c) => isObj(c) && 'exists' in c && c.exists === true);
	return conds.some((c) => values.some((v) => matchLeaf(c, present, v)));
}

function matches(pattern, event) {
	if (!isObj(pattern))
		throw new Error('pattern must be a JSON object');
	for (const [key, sub] of Object.entries(pattern)) {
		if (key === '$or')
			throw new Error("'$or' is not supported by this matcher");
		const present = isObj(event) && Object.prototype.hasOwnProperty.call(event, key);
		const value = present ? event[key] : undefined;
		if (isObj(sub)) {
			if (!present || !isObj(value))
				return false;
			if (!matches(sub, value))
				return false;
		} else if (!matchField(sub, present, value)) {
			return false;
		}
	}
	return true;
}

module.exports = { matches };

if (require.main === module) {
	try {
		const [p, e] = process.argv.slice(2);
		process.exit(matches(JSON.parse(p), JSON.parse(e)) ? 0 : 1);
	} catch (err) {
		process.stderr.write(`pattern-match: ${err.message}\n`);
		process.exit(2);
	}
}
