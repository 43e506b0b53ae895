#!/usr/bin/env python3
"""Bounded HTTP load for the Molecule scenarios: sequential GETs, a new connection each, to one URL.

loadgen.py URL LOG STOP_FILE [MIN_REQUESTS] [MAX_SECONDS]
Runs until STOP_FILE exists and at least MIN_REQUESTS (default 5000) were sent, or MAX_SECONDS
(default 600) passed. Writes one line per request to LOG: the HTTP status (000 for a connection error
or timeout), then the answering hostname and release (or "error" and the exception), then the seconds
since the start. An answer that is not the sample app's JSON is logged with "-" for the hostname and
the text of its first <h1> (blanks as "_") for the release.
"""

import http.client
import json
import os
import re
import sys
import time
import urllib.parse

HEADING = re.compile(r"<h1>(.*?)</h1>", re.S)


def one_request(url):
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=10)
    try:
        connection.request("GET", parts.path or "/", headers={"Host": parts.hostname, "Connection": "close"})
        response = connection.getresponse()
        body = response.read()
        try:
            data = json.loads(body)
            return "%03d %s %s" % (response.status, data.get("hostname", "-"), data.get("release", "-"))
        except ValueError:
            # Not the sample app: an HTML page names its version in its first <h1>, if it has one.
            heading = HEADING.search(body.decode("utf-8", "replace"))
            return "%03d - %s" % (response.status, heading.group(1).strip().replace(" ", "_") if heading else "-")
    except (OSError, http.client.HTTPException) as error:
        return "000 error %s:%s" % (type(error).__name__, str(error).replace(" ", "_")[:80])
    finally:
        connection.close()


def main(argv):
    url, log, stop_file = argv[1], argv[2], argv[3]
    minimum = int(argv[4]) if len(argv) > 4 else 5000
    deadline = time.monotonic() + (int(argv[5]) if len(argv) > 5 else 600)
    sent = 0
    start = time.monotonic()
    with open(log, "w", encoding="utf-8") as out:
        while time.monotonic() < deadline:
            if sent >= minimum and os.path.exists(stop_file):
                break
            out.write("%s %.3f\n" % (one_request(url), time.monotonic() - start))
            out.flush()
            sent += 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
