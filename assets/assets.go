package assets

import _ "embed"

// HTTPDConf is the text/template for the private Apache config that the php
// stack generates for each service (see stacks/apache.go for its data).
//
//go:embed httpd.conf.tmpl
var HTTPDConf string

// ApacheSiteConf is the text/template for the Apache site that replaces the
// default site of a php container (see stacks/container_php.go for its
// data).
//
//go:embed apache-site.conf.tmpl
var ApacheSiteConf string

// UnknownHostPage is the html/template the proxy renders for a host it does
// not serve. Its data is proxy's unknown-host view: Host and Sites.
//
//go:embed pages/unknown-host.html
var UnknownHostPage string

// BadGatewayPage is the html/template the proxy renders when a route's
// backend is down or refuses the connection. It names the project, the
// service, the reason and the command that starts it.
//
//go:embed pages/bad-gateway.html
var BadGatewayPage string

// Icon is the 256×256 PNG application icon (FyneApp.toml points at the same file).
//
//go:embed icons/devport.png
var Icon []byte

// Tray icons (64×64 PNG, drawn by icons/gentray.go): all projects stopped,
// some running, and an error (a backend crashed).
var (
	//go:embed icons/tray-stopped.png
	TrayStopped []byte
	//go:embed icons/tray-running.png
	TrayRunning []byte
	//go:embed icons/tray-error.png
	TrayError []byte
)
