// Package assets embeds the files devport ships inside its binary: the
// application and tray icons, the Apache config template used by the php
// stack, and the HTML pages the proxy shows when it cannot forward a request.
//
// It imports nothing but embed, so every other package may depend on it.
package assets
