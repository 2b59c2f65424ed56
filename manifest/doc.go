// Package manifest reads, checks and writes devport.toml, the file in a
// project folder that describes how devport runs the project, so a team can
// commit its stack next to its code.
//
// A complete example (every key is optional unless noted):
//
//	name = "shop"                 # default: the folder's name
//	domains = ["shop.test"]       # default: NAME.test; the first is the primary one
//
//	[services.web]                # one table per service; at least one
//	stack = "php"                 # required: php | uvicorn | gunicorn | wsgi | uwsgi
//	runtime = "process"           # process (default) | container
//	prefix = "/"                  # path prefix it serves, default "/"
//	docroot = "public"            # php only, relative to the folder
//	image = "php:8.3-apache"      # container runtime only
//	env = { APP_ENV = "dev" }     # added to the backend's environment
//
//	[services.api]
//	stack = "uvicorn"
//	prefix = "/api"               # the ASGI stacks get it as root_path
//	app = "api.main:app"          # required for the Python stacks: MODULE:ATTRIBUTE
//	workers = 2                   # gunicorn, wsgi and uwsgi; 0 or unset: one per core
//
//	[[routes]]                    # extra routes: prefix and one of service, static, url
//	prefix = "/static"
//	static = "static"             # a folder relative to the project folder
//	cache_control = "public, max-age=2592000"
//
//	[hooks]
//	before_start = "composer install"   # run with sh -c in the folder before the services start
//
// Parse reads and validates a file; every error names the file, the line
// and the key, and says how to fix it:
//
//	shop/devport.toml:12: services.api.stack: "rails" is not a stack; use php, uvicorn, gunicorn, wsgi, uwsgi or static
//
// Unknown keys are errors too, with a suggestion when one is close. Write
// turns a File back into TOML in a stable order. The package imports no
// other devport package: app converts a File to and from store types.
package manifest
