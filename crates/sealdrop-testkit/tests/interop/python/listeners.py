"""Real servers on loopback for the notify tests; each prints "PORT <n>" once it
listens, then records what it receives into OUT, one file per message.

    listeners.py smtp OUT CERT KEY USER PASSWORD   # aiosmtpd: STARTTLS required, AUTH required over TLS
    listeners.py webhook OUT CERT KEY              # HTTPS: records method, path, headers and body as JSON
"""

import asyncio
import http.server
import json
import os
import socket
import ssl
import sys
import threading


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tls_context(cert, key):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def smtp(out, cert, key, user, password):
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    count = {"n": 0}

    class Recorder:
        async def handle_DATA(self, server, session, envelope):
            count["n"] += 1
            with open(os.path.join(out, f"{count['n']}.eml"), "wb") as f:
                f.write(envelope.original_content or envelope.content)
            with open(os.path.join(out, f"{count['n']}.envelope.json"), "w") as f:
                json.dump({
                    "mail_from": envelope.mail_from,
                    "rcpt_tos": envelope.rcpt_tos,
                    "tls": session.ssl is not None,
                    "authenticated": session.authenticated,
                    "helo": session.host_name,
                }, f)
            return "250 OK"

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login == user.encode() and auth_data.password == password.encode()
        # handled=False: aiosmtpd answers 535 itself (handled=True would leave
        # the client waiting for an answer the authenticator never sends).
        return AuthResult(success=ok, handled=False)

    port = free_port()
    controller = Controller(
        Recorder(),
        hostname="127.0.0.1",
        port=port,
        tls_context=tls_context(cert, key),
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
        auth_require_tls=True,
    )
    controller.start()
    print(f"PORT {port}", flush=True)
    threading.Event().wait()


def webhook(out, cert, key):
    count = {"n": 0}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            count["n"] += 1
            with open(os.path.join(out, f"{count['n']}.json"), "w") as f:
                json.dump({
                    "method": "POST",
                    "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": body.decode("utf-8", "replace"),
                }, f)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = tls_context(cert, key).wrap_socket(server.socket, server_side=True)
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever()


def main():
    kind, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    if kind == "smtp":
        smtp(out, *sys.argv[3:7])
    elif kind == "webhook":
        webhook(out, *sys.argv[3:5])
    else:
        sys.exit(f"unknown listener {kind}")


if __name__ == "__main__":
    main()
