"""Check what the SMTP sinks stored against the expectations smtp_live wrote.

usage: verify.py EXPECT_JSONL SINK_ROOT   (SINK_ROOT/{tls,plain,implicit} hold NNN.eml
and NNN.rcpt). Exactly the expected messages must be there, each once, with the
headers, recipients (header and envelope), subject and both parts intact."""
import email, email.policy, email.utils, glob, json, os, sys

expect_file, root = sys.argv[1], sys.argv[2]
expected = [json.loads(line) for line in open(expect_file, encoding="utf-8") if line.strip()]
errors = []

def check(mid, e, raw, msg, rcpt):
    def bad(what):
        errors.append("%s: %s" % (mid, what))
    head, _, body = raw.partition(b"\r\n\r\n")
    for line in raw.split(b"\r\n"):
        if len(line) > (78 if line in head.split(b"\r\n") else 76):
            bad("line too long: %r" % line[:90])
    if b"\n" in raw.replace(b"\r\n", b""):
        bad("bare LF in the message")
    if msg["subject"] != e["subject"]:
        bad("subject %r != %r" % (msg["subject"], e["subject"]))
    if not e["subject"].isascii() and b"Subject: =?UTF-8?B?" not in head:
        bad("non-ASCII subject not RFC 2047 encoded")
    if msg["from"].addresses[0].addr_spec != "alerts@example.test":
        bad("from %s" % msg["from"])
    want_to = [email.utils.parseaddr(a) for a in e["to"]]
    got_to = [(a.display_name, a.addr_spec) for a in msg["to"].addresses]
    if got_to != want_to:
        bad("To %r != %r" % (got_to, want_to))
    if sorted(rcpt) != sorted(a for _, a in want_to):
        bad("envelope recipients %r != %r" % (rcpt, [a for _, a in want_to]))
    if msg["date"] is None or msg["date"].datetime is None:
        bad("no valid Date")
    if msg["mime-version"] != "1.0" or msg["auto-submitted"] != "auto-generated":
        bad("MIME-Version/Auto-Submitted missing")
    if msg.is_multipart():
        parts = list(msg.iter_parts())
        if msg.get_content_type() != "multipart/alternative" or \
                [p.get_content_type() for p in parts] != ["text/plain", "text/html"]:
            bad("structure %s %r" % (msg.get_content_type(), [p.get_content_type() for p in parts]))
            return
        text, html = (p.get_content() for p in parts)
        for p in parts:
            if p.get_content_charset() != "utf-8" or p["content-transfer-encoding"] != "quoted-printable":
                bad("part %s charset/encoding" % p.get_content_type())
    else:
        text, html = msg.get_content(), ""
    text = text.replace("\r\n", "\n")
    for s in e["text_contains"]:
        if s not in text:
            bad("text part lacks %r" % s)
    for s in e["html_contains"]:
        if s not in html:
            bad("html part lacks %r" % s)

for d in ("tls", "plain", "implicit"):
    want = {e["message_id"]: e for e in expected if e["dir"] == d}
    got = {}
    for f in sorted(glob.glob(os.path.join(root, d, "*.eml"))):
        raw = open(f, "rb").read()
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        mid = msg["message-id"].strip().strip("<>").split("@")[0]
        if mid in got:
            errors.append("%s: delivered twice" % mid)
        rcpt = open(f[:-4] + ".rcpt").read().split()
        got[mid] = (raw, msg, rcpt)
    for mid in sorted(set(got) - set(want)):
        errors.append("%s/%s: arrived but should not have" % (d, mid))
    for mid in sorted(set(want) - set(got)):
        errors.append("%s/%s: expected but never arrived" % (d, mid))
    for mid in sorted(set(want) & set(got)):
        check(mid, want[mid], *got[mid])
    print("%s: %d message(s) checked" % (d, len(set(want) & set(got))))

for e in errors:
    print("FAIL", e)
sys.exit(1 if errors or not expected else 0)
