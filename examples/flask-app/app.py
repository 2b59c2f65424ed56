"""A small Flask app: runs under gunicorn (devport's wsgi stack) or uWSGI."""
from flask import Flask, request, url_for

app = Flask(__name__)


@app.route("/")
def index():
    return {
        "hello": "from flask-app",
        "scheme": request.scheme,
        "remote_addr": request.remote_addr,
        "script_root": request.script_root,
        "url": url_for("index", _external=True),
        # What the proxy forwarded: under uWSGI these arrive as uwsgi vars.
        "forwarded": {k: v for k, v in request.environ.items() if k.startswith("HTTP_X_FORWARDED_")},
        "https_var": request.environ.get("HTTPS", ""),
    }
