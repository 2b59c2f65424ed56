"""The API half of the split: the proxy sends /api here, with root_path /api."""
from fastapi import FastAPI, Request, WebSocket

app = FastAPI()


@app.get("/items/{item_id}", name="item")
def item(item_id: int, request: Request):
    return {
        "item_id": item_id,
        "root_path": request.scope.get("root_path", ""),
        "scheme": request.url.scheme,
        "url": str(request.url_for("item", item_id=item_id)),
    }


@app.websocket("/ws")
async def echo(websocket: WebSocket):
    """Echoes one message: /api/ws through the proxy."""
    await websocket.accept()
    msg = await websocket.receive_text()
    await websocket.send_text("echo " + msg + " over " + websocket.headers.get("x-forwarded-proto", "?"))
    await websocket.close()
