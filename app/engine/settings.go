package engine

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/stackdef"
	"github.com/devport/devport/store"
)

// Settings keys the desktop window keeps in the store.
const (
	// SettingDefaultTLD is the TLD the new-project wizard suggests
	// domains under ("test" or "localhost").
	SettingDefaultTLD = wire.SettingDefaultTLD
)

// ManagedTLDs returns the top-level domains devport serves, without dots.
func ManagedTLDs() []string { return slices.Clone(managedTLDs) }

// SettingInfo describes a setting `devport config` knows.
type SettingInfo struct {
	Key, Help string
	// Default is what applies while the setting is unset.
	Default string
}

// imageStacks are the stacks whose image a container.image.STACK setting
// names.
var imageStacks = stackdef.Names(func(d stackdef.Def) bool { return d.DefaultImage != "" })

// KnownSettings lists every setting devport reads, in `devport config ls`
// order.
func KnownSettings() []SettingInfo {
	out := []SettingInfo{{Key: SettingDefaultTLD, Default: "test",
		Help: "the TLD the new-project wizard suggests domains under (" + strings.Join(managedTLDs, " or ") + ")"}}
	for _, st := range imageStacks {
		out = append(out, SettingInfo{Key: SettingImagePrefix + st, Default: stackdef.DefaultImage(st),
			Help: "the image of " + st + " services in the container runtime that name none"})
	}
	out = append(out, SettingInfo{Key: SettingParkIdle, Default: defaultParkIdle.String(),
		Help: "how long a project of a parked folder (devport park) may go without a request before devport stops it; 0: never"})
	return out
}

// LookupSetting returns the description of key, or the error that lists
// the keys devport reads.
func LookupSetting(key string) (SettingInfo, error) {
	var keys []string
	for _, s := range KnownSettings() {
		if s.Key == key {
			return s, nil
		}
		keys = append(keys, s.Key)
	}
	return SettingInfo{}, &store.ValidationError{Field: "setting", Value: key, Reason: "devport has no such setting",
		Fix: "use one of " + strings.Join(keys, ", ")}
}

// CheckSetting validates a value for key before it is stored: the key
// must be one devport reads, and the value must suit it.
func CheckSetting(key, value string) error {
	info, err := LookupSetting(key)
	if err != nil {
		return err
	}
	switch {
	case key == SettingDefaultTLD:
		if !slices.Contains(managedTLDs, value) {
			return &store.ValidationError{Field: key, Value: value, Reason: "not a TLD devport serves",
				Fix: "use " + strings.Join(managedTLDs, " or ")}
		}
	case strings.HasPrefix(key, SettingImagePrefix):
		if value == "" {
			return &store.ValidationError{Field: key, Reason: "the image is empty",
				Fix: fmt.Sprintf("name an image such as %s, or devport config unset %s", info.Default, key)}
		}
		if err := checkRuntime(wire.RuntimeContainer, value); err != nil {
			return err
		}
	case key == SettingParkIdle: // park_idle.go
		return checkParkIdle(value)
	}
	return nil
}

// Settings returns every stored setting, by key.
func (m *Manager) Settings(ctx context.Context) (map[string]string, error) {
	return m.db.Settings(ctx)
}

// UnsetSetting removes a setting devport knows, so its default applies
// again.
func (m *Manager) UnsetSetting(ctx context.Context, key string) error {
	if _, err := LookupSetting(key); err != nil {
		return err
	}
	return m.db.DeleteSetting(ctx, key)
}

// Setting returns a stored setting and whether it is set.
func (m *Manager) Setting(ctx context.Context, key string) (string, bool, error) {
	return m.db.Setting(ctx, key)
}

// SetSetting checks a setting devport knows (CheckSetting) and stores it;
// it applies from the next time the engine reads it (the next start of
// a project for images, the next wizard for the TLD).
func (m *Manager) SetSetting(ctx context.Context, key, value string) error {
	if err := CheckSetting(key, value); err != nil {
		return err
	}
	return m.db.SetSetting(ctx, key, value)
}

// Engine describes this Manager as an engine: its pid and, while it
// serves, the ports the proxy listens on (0 when it does not serve).
func (m *Manager) Engine() wire.EngineInfo {
	info := wire.EngineInfo{PID: os.Getpid()}
	if srv := m.srv.Load(); srv != nil {
		info.HTTPSPort, info.HTTPPort = srv.HTTPSPort(), srv.HTTPPort()
	}
	return info
}

// NameFromFolder is the project name devport derives from a folder's base
// name ("My Shop_v2" becomes "my-shop-v2"), for the wizard's suggestion.
func NameFromFolder(dir string) string { return nameFromFolder(dir) }
