"""Sample Flask app shipped with flaskstack.deploy: every answer says which release, host and CPU served it."""

import os
import platform
import socket

from flask import Flask, jsonify, session

app = Flask(__name__)
# The same key on every host, or sessions break when the load balancer picks another node.
app.secret_key = os.environ["FLASK_SECRET_KEY"]

RELEASE_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "RELEASE")


def release():
    try:
        with open(RELEASE_FILE, encoding="utf-8") as handle:
            return handle.read().strip()
    except OSError:
        return "unknown"


def identity():
    return {
        "release": release(),
        "hostname": socket.gethostname(),
        "arch": platform.machine(),
        "pid": os.getpid(),
    }


@app.route("/")
def index():
    session["visits"] = session.get("visits", 0) + 1
    return jsonify({**identity(), "visits": session["visits"]})


@app.route("/healthz")
def healthz():
    return jsonify({**identity(), "status": "ok"})
