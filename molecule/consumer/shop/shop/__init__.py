"""An ordinary Flask shop, as a user writes it: a package with an app factory. Knows nothing of flaskstack."""

import os

from flask import Flask, render_template_string, session

VERSION = "shop 1.0"

PAGE = """<!doctype html>
<link rel="stylesheet" href="{{ url_for('static', filename='shop.css') }}">
<h1>{{ version }}</h1><p>visits: {{ visits }}, prices in {{ currency }}</p>
"""


def create_app(config=None):
    app = Flask(__name__, static_folder="assets", static_url_path="/assets")
    app.config.from_prefixed_env()  # FLASK_SECRET_KEY, as Flask apps usually take it
    app.config["CURRENCY"] = os.environ.get("SHOP_CURRENCY", "USD")
    app.config.update(config or {})

    @app.route("/")
    def index():
        session["visits"] = session.get("visits", 0) + 1
        return render_template_string(PAGE, version=VERSION, visits=session["visits"], currency=app.config["CURRENCY"])

    @app.cli.command("migrate")
    def migrate():
        """Bring the database up to this version (the demo's database: a line in a file)."""
        with open(os.environ["SHOP_DATABASE"], "a", encoding="utf-8") as database:
            database.write("%s %s\n" % (VERSION.replace(" ", "_"), app.config["CURRENCY"]))

    @app.route("/ping")
    def ping():
        return "pong\n", 200, {"Content-Type": "text/plain"}

    return app
