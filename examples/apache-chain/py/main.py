"""The Python side of the chain: reached as proxy → Apache → uvicorn at /py/."""
from fastapi import FastAPI, Request

app = FastAPI()


@app.get("/{rest:path}", name="echo")
def echo(rest: str, request: Request):
    return {
        "hello": "from uvicorn behind apache",
        "path": request.url.path,
        "root_path": request.scope.get("root_path", ""),
        "scheme": request.url.scheme,
        "url_for": str(request.url_for("echo", rest="x")),
    }
