# Written by devport: uvicorn's gunicorn worker with the ASGI root_path
# taken from SCRIPT_NAME (gunicorn --env), which UvicornWorker cannot set.
import os

from uvicorn.workers import UvicornWorker


class RootPathWorker(UvicornWorker):
    def __init__(self, *args, **kwargs):
        self.CONFIG_KWARGS = dict(UvicornWorker.CONFIG_KWARGS, root_path=os.environ.get("SCRIPT_NAME", ""))
        super().__init__(*args, **kwargs)
