"""SMTP sink for the mail integration test (aiosmtpd 1.4, Debian's python3).

--tls starttls: STARTTLS offered and required, AUTH required (after TLS);
--tls implicit: TLS from the first byte (smtps://), AUTH required;
--tls none: no STARTTLS, no AUTH (the "plain server" a TLS-requiring client refuses).
Each accepted message goes to OUT/NNN.eml, its envelope recipients to OUT/NNN.rcpt,
and OUT/NNN.quit once the client closed that session with QUIT (it read the 250).
Recipients whose local part starts with "refuse" get 550, "tempfail" 451. The chosen port is
written to PORT_FILE once the server accepts connections; SIGTERM stops it."""
import argparse, os, signal, socket, ssl, warnings
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

ap = argparse.ArgumentParser()
ap.add_argument("--port-file", required=True)
ap.add_argument("--out", required=True)
ap.add_argument("--tls", choices=("starttls", "implicit", "none"), default="starttls")
ap.add_argument("--cert"), ap.add_argument("--key")
ap.add_argument("--user", default="bot"), ap.add_argument("--password-file")
a = ap.parse_args()
os.makedirs(a.out, exist_ok=True)

class Sink:
    n = 0
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.split("@")[0].startswith("refuse"):
            return "550 5.1.1 mailbox unavailable"
        if address.split("@")[0].startswith("tempfail"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"
    async def handle_DATA(self, server, session, envelope):
        Sink.n += 1
        base = os.path.join(a.out, "%03d" % Sink.n)
        with open(base + ".rcpt", "w") as f:
            f.write("\n".join(envelope.rcpt_tos) + "\n")
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content)
        os.rename(base + ".eml.tmp", base + ".eml")
        session.alc_delivered = getattr(session, "alc_delivered", []) + [base]
        return "250 OK"
    async def handle_QUIT(self, server, session, envelope):
        # A client sends QUIT only after it read the answer to its DATA: the
        # messages of this session reached it as delivered (NNN.quit). A
        # message without one may have been resent (the SMTP window).
        for base in getattr(session, "alc_delivered", []):
            open(base + ".quit", "w").close()
        return "221 Bye"

def check_login(server, session, envelope, mechanism, auth_data):
    password = open(a.password_file, "rb").read().rstrip(b"\n")
    return AuthResult(success=auth_data.login == a.user.encode() and auth_data.password == password,
                      handled=False)

kw = {}
if a.tls != "none":
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(a.cert, a.key)
    kw = dict(auth_required=True, auth_require_tls=True, authenticator=check_login)
    if a.tls == "starttls":
        kw.update(tls_context=ctx, require_starttls=True)
    else:
        # aiosmtpd only counts STARTTLS as TLS for auth_require_tls; here the
        # whole connection is TLS already.
        warnings.simplefilter("ignore", UserWarning)
        kw.update(ssl_context=ctx, auth_require_tls=False)
s = socket.socket()
s.bind(("127.0.0.1", 0))
port = s.getsockname()[1]
s.close()
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
ctl = Controller(Sink(), hostname="127.0.0.1", port=port, **kw)
ctl.start()
with open(a.port_file + ".tmp", "w") as f:
    f.write("%d\n" % port)
os.rename(a.port_file + ".tmp", a.port_file)
signal.sigwait({signal.SIGTERM, signal.SIGINT})
ctl.stop()
