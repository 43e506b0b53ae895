#!/usr/bin/env python
"""Sends a few requests through the lab's load balancer and prints which backend answered each.

Usage: lab_requests.py [URL] [COUNT]   (default http://127.0.0.1:8080/ and 9 requests)
Exits non-zero when a request fails or answers something other than the sample app's JSON.
"""

import json
import sys
import urllib.request


def main(argv):
    url = argv[1] if len(argv) > 1 else "http://127.0.0.1:8080/"
    count = int(argv[2]) if len(argv) > 2 else 9
    seen = {}
    print("%-3s %-8s %-10s %-14s %s" % ("#", "status", "hostname", "architecture", "release"))
    for number in range(1, count + 1):
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                status = response.status
                body = json.loads(response.read().decode("utf-8"))
        except Exception as error:  # noqa: BLE001 - report any failure the same way
            print("%-3d request failed: %s" % (number, error))
            return 1
        print("%-3d %-8d %-10s %-14s %s" % (number, status, body["hostname"], body["arch"], body["release"]))
        seen[body["hostname"]] = body["arch"]
    print("%d backends answered: %s" % (len(seen), ", ".join("%s (%s)" % item for item in sorted(seen.items()))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
