"""A small FastAPI app for devport's first-site walkthrough."""
from fastapi import FastAPI, Request, WebSocket

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


@app.websocket("/ws")
async def echo(websocket: WebSocket):
    """Echoes one message, saying which scheme the proxy forwarded."""
    await websocket.accept()
    msg = await websocket.receive_text()
    await websocket.send_text("echo " + msg + " over " + websocket.headers.get("x-forwarded-proto", "?"))
    await websocket.close()
