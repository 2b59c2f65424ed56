package app

import (
	"context"
	"os"
	"slices"
)

// Settings keys the desktop window keeps in the store.
const (
	// SettingDefaultTLD is the TLD the new-project wizard suggests
	// domains under ("test" or "localhost").
	SettingDefaultTLD = "gui.default_tld"
)

// ManagedTLDs returns the top-level domains devport serves, without dots.
func ManagedTLDs() []string { return slices.Clone(managedTLDs) }

// Setting returns a stored setting and whether it is set.
func (m *Manager) Setting(ctx context.Context, key string) (string, bool, error) {
	return m.db.Setting(ctx, key)
}

// SetSetting stores a setting.
func (m *Manager) SetSetting(ctx context.Context, key, value string) error {
	return m.db.SetSetting(ctx, key, value)
}

// Engine describes this Manager as an engine: its pid and, while it
// serves, the ports the proxy listens on (0 when it does not serve).
func (m *Manager) Engine() EngineInfo {
	info := EngineInfo{PID: os.Getpid()}
	if srv := m.srv.Load(); srv != nil {
		info.HTTPSPort, info.HTTPPort = srv.HTTPSPort(), srv.HTTPPort()
	}
	return info
}

// NameFromFolder is the project name devport derives from a folder's base
// name ("My Shop_v2" becomes "my-shop-v2"), for the wizard's suggestion.
func NameFromFolder(dir string) string { return nameFromFolder(dir) }
