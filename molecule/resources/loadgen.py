"""Bounded HTTP load for the Molecule scenarios: GETs to one URL, as fresh or as kept-alive connections.

loadgen.py URL LOG STOP_FILE [MIN_REQUESTS] [MAX_SECONDS] [--keepalive CLIENTS] [--interval SECONDS]
Runs until STOP_FILE exists and at least MIN_REQUESTS (default 5000) were sent, or MAX_SECONDS
(default 600) passed.

Without --keepalive: one client, sequential requests, a new connection each (`Connection: close`).
With --keepalive CLIENTS: that many clients side by side, each sending its requests one after the other
over one HTTP/1.1 connection that it reuses, as browsers and API clients do. A client does not retry:
a request the server drops (it closed the kept-alive connection as the request arrived) counts as
failed, and the client opens a new connection for its next request. A server that announces the end of
a connection (`Connection: close` on an answer) is followed, which is not a failure. --interval makes
each client wait that long between its requests (default 0). A kept-alive connection then sits idle
most of the time, as a browser's does, which is when a server that closes idle connections (an nginx
reload) loses the client's next request. Either way it leaves the CPU to the deploy under test: an
unpaced client takes most of a core on a small machine, and the deploy is what is being tested.

Writes one line per request to LOG: the HTTP status (000 for a connection error or timeout), then the
answering hostname and release (or "error" and the exception), then the seconds since the start, and,
with --keepalive, the client's number and how many requests its connection had carried before this one
(0: a new connection). An answer that is not the sample app's JSON is logged with "-" for the hostname
and the text of its first <h1> (blanks as "_") for the release.
"""

import http.client
import json
import os
import re
import sys
import threading
import time
import urllib.parse

HEADING = re.compile(r"<h1>(.*?)</h1>", re.S)


def describe(status, body):
    try:
        data = json.loads(body)
        return "%03d %s %s" % (status, data.get("hostname", "-"), data.get("release", "-"))
    except ValueError:
        # Not the sample app: an HTML page names its version in its first <h1>, if it has one.
        heading = HEADING.search(body.decode("utf-8", "replace"))
        return "%03d - %s" % (status, heading.group(1).strip().replace(" ", "_") if heading else "-")


def failure(error):
    return "000 error %s:%s" % (type(error).__name__, str(error).replace(" ", "_")[:80])


class Client:
    """One client: fresh connections, or one kept-alive connection reused until the server ends it."""

    def __init__(self, url, keepalive, interval=0.0):
        self.parts = urllib.parse.urlsplit(url)
        self.keepalive = keepalive
        self.interval = interval
        self.connection = None
        self.served = 0  # requests the current connection has carried

    def _connect(self):
        self.connection = http.client.HTTPConnection(self.parts.hostname, self.parts.port or 80, timeout=10)
        self.served = 0

    def close(self):
        if self.connection is not None:
            self.connection.close()
        self.connection = None

    def request(self):
        """Returns (log text, requests the connection had carried before this one)."""
        if self.connection is None:
            self._connect()
        served = self.served
        headers = {"Host": self.parts.hostname}
        if not self.keepalive:
            headers["Connection"] = "close"
        try:
            self.connection.request("GET", self.parts.path or "/", headers=headers)
            response = self.connection.getresponse()
            body = response.read()
            result = describe(response.status, body)
            self.served += 1
            if not self.keepalive or response.will_close:
                self.close()
            return result, served
        except (OSError, http.client.HTTPException) as error:
            # No retry: the request is lost for this client. The next one goes over a new connection.
            self.close()
            return failure(error), served


def run_client(client, out, lock, state, number):
    first = True
    while True:
        if client.interval and not first:
            time.sleep(client.interval)
        first = False
        with lock:
            if time.monotonic() >= state["deadline"] or (
                state["sent"] >= state["minimum"] and os.path.exists(state["stop_file"])
            ):
                break
            state["sent"] += 1
        text, served = client.request()
        stamp = time.monotonic() - state["start"]
        line = "%s %.3f" % (text, stamp)
        if client.keepalive:
            line += " c%d r%d" % (number, served)
        with lock:
            out.write(line + "\n")
            out.flush()
    client.close()


def main(argv):
    args = list(argv[1:])
    clients = 0
    if "--keepalive" in args:
        at = args.index("--keepalive")
        clients = int(args[at + 1])
        del args[at:at + 2]
        if clients < 1:
            raise SystemExit("--keepalive needs a number of clients of at least 1")
    interval = 0.0
    if "--interval" in args:
        at = args.index("--interval")
        interval = float(args[at + 1])
        del args[at:at + 2]
    url, log, stop_file = args[0], args[1], args[2]
    state = {
        "minimum": int(args[3]) if len(args) > 3 else 5000,
        "deadline": time.monotonic() + (int(args[4]) if len(args) > 4 else 600),
        "stop_file": stop_file,
        "sent": 0,
        "start": time.monotonic(),
    }
    lock = threading.Lock()
    # The wall-clock start, to line the log up with other logs (seconds since the epoch).
    print("loadgen start %.3f" % time.time(), file=sys.stderr, flush=True)
    with open(log, "w", encoding="utf-8") as out:
        if not clients:
            run_client(Client(url, False, interval), out, lock, state, 0)
            return 0
        threads = [
            threading.Thread(target=run_client, args=(Client(url, True, interval), out, lock, state, number))
            for number in range(clients)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
