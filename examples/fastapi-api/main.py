"""A small FastAPI app for devport's first-site walkthrough."""
from fastapi import FastAPI, Request

app = FastAPI()


@app.get("/")
def index(request: Request):
    return {
        "hello": "from fastapi-api",
        "scheme": request.url.scheme,
        "host": request.headers.get("host"),
        "client": request.client.host if request.client else None,
    }


@app.get("/items/{item_id}")
def item(item_id: int):
    return {"item_id": item_id}
