"""An SMTP server that accepts every e-mail and counts it."""

import socketserver
import threading

from ppu_tools.server import HOST


class SmtpSink(socketserver.ThreadingTCPServer):
    """Accepts every e-mail Odoo sends and counts it (no TLS, no auth)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__((HOST, 0), SmtpHandler)
        self.messages = 0
        self.lock = threading.Lock()

    @property
    def port(self):
        return self.server_address[1]

    def start(self):
        """Serve in a thread of this process; ``shutdown()`` stops it."""
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self


class SmtpHandler(socketserver.StreamRequestHandler):
    def reply(self, text):
        self.wfile.write(text.encode() + b"\r\n")

    def handle(self):
        self.reply("220 localhost ESMTP production check sink")
        for line in self.rfile:
            verb = line[:4].upper()
            if verb == b"EHLO":
                self.reply("250-localhost\r\n250 8BITMIME")
            elif verb == b"DATA":
                self.reply("354 end with <CRLF>.<CRLF>")
                for data in self.rfile:
                    if data in (b".\r\n", b".\n"):
                        break
                with self.server.lock:
                    self.server.messages += 1
                self.reply("250 queued")
            elif verb == b"QUIT":
                self.reply("221 bye")
                return
            else:  # HELO, MAIL, RCPT, RSET, NOOP
                self.reply("250 OK")
