#!/usr/bin/env python3
"""A real SMTP server for development and tests (aiosmtpd).

Every accepted message is stored as one file in a Maildir-like directory:
written under DIR/tmp, then renamed into DIR/new as
`<nanoseconds>-<message-id>.eml` (the Message-ID without its angle
brackets, unsafe characters replaced by `_`), so a message is found by its
Message-ID and a duplicate send shows up as a second file. Two headers are
prepended: `X-Envelope-From` and `X-Envelope-To` (the SMTP envelope).

Deterministic faults, chosen by the recipient's local part so parallel
tests never interfere (each uses its own recipient):
  tempfail-N-...@...  451 for the first N RCPT attempts of that address, then accepted
  reject-...@...      550 5.1.1 mailbox unavailable

Usage: smtp-server.py --port 2525 --dir .livedesk/mail [--host 127.0.0.1]
Stops on SIGTERM or SIGINT.
"""
import argparse
import os
import re
import signal
import sys
import threading
import time
from email.parser import BytesHeaderParser
from email.policy import compat32

from aiosmtpd.controller import Controller

TEMPFAIL = re.compile(r"^tempfail-(\d+)-", re.IGNORECASE)


class Maildir:
    """Stores each message atomically: tmp/ then rename into new/."""

    def __init__(self, root):
        self.root = root
        for sub in ("tmp", "new", "cur"):
            os.makedirs(os.path.join(root, sub), exist_ok=True)

    def store(self, content, mail_from, rcpt_tos):
        headers = BytesHeaderParser(policy=compat32).parsebytes(content)
        message_id = (headers.get("Message-ID") or "").strip().strip("<>") or "no-message-id"
        safe = re.sub(r"[^A-Za-z0-9@._-]", "_", message_id)[:200]
        name = f"{time.time_ns()}-{safe}.eml"
        envelope = (
            f"X-Envelope-From: {mail_from}\r\nX-Envelope-To: {', '.join(rcpt_tos)}\r\n"
        ).encode("utf-8", "replace")
        tmp = os.path.join(self.root, "tmp", name)
        with open(tmp, "wb") as f:
            f.write(envelope + content)
            f.flush()
            os.fsync(f.fileno())
        final = os.path.join(self.root, "new", name)
        os.rename(tmp, final)
        return final


class Handler:
    def __init__(self, maildir):
        self.maildir = maildir
        self.lock = threading.Lock()
        self.tempfail_seen = {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0].lower()
        if local.startswith("reject-"):
            return "550 5.1.1 mailbox unavailable"
        m = TEMPFAIL.match(local)
        if m:
            with self.lock:
                seen = self.tempfail_seen.get(address.lower(), 0)
                self.tempfail_seen[address.lower()] = seen + 1
            if seen < int(m.group(1)):
                return "451 4.3.0 temporarily unavailable, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        try:
            path = self.maildir.store(envelope.content, envelope.mail_from, envelope.rcpt_tos)
        except OSError as e:
            print(f"smtp-server: cannot store message: {e}", file=sys.stderr, flush=True)
            return "451 4.3.0 cannot store the message"
        print(f"smtp-server: stored {os.path.basename(path)}", flush=True)
        return "250 Message accepted for delivery"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=2525)
    ap.add_argument("--dir", required=True, help="the Maildir-like directory messages are stored in")
    args = ap.parse_args()
    controller = Controller(
        Handler(Maildir(args.dir)),
        hostname=args.host,
        port=args.port,
        server_hostname="livedesk-smtp-dev",
    )
    controller.start()
    print(f"smtp-server: listening on {args.host}:{args.port}, storing in {args.dir}", flush=True)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
