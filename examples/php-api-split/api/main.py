"""The API half of the split: the proxy sends /api here, with root_path /api."""
from fastapi import FastAPI, Request

app = FastAPI()


@app.get("/items/{item_id}", name="item")
def item(item_id: int, request: Request):
    return {
        "item_id": item_id,
        "root_path": request.scope.get("root_path", ""),
        "scheme": request.url.scheme,
        "url": str(request.url_for("item", item_id=item_id)),
    }
