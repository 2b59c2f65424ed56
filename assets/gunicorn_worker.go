package assets

import _ "embed"

// GunicornWorker is the Python source of module GunicornWorkerModule: a
// subclass of uvicorn's gunicorn worker, RootPathWorker, that sets the ASGI
// root_path from SCRIPT_NAME, which UvicornWorker cannot. The gunicorn
// stack (with a path prefix) and the compose export both run it with
// `--pythonpath DIR -k devport_gunicorn_worker.RootPathWorker`.
//
//go:embed gunicorn_worker.py
var GunicornWorker string

// GunicornWorkerModule is the module name GunicornWorker is written under
// (DIR/devport_gunicorn_worker.py).
const GunicornWorkerModule = "devport_gunicorn_worker"
