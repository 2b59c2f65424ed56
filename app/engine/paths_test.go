package engine

import "testing"

func TestResolvePaths(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    Paths
		wantErr bool
	}{
		{"DEVPORT_HOME overrides everything",
			map[string]string{"DEVPORT_HOME": "/d", "HOME": "/h", "XDG_DATA_HOME": "/x", "XDG_RUNTIME_DIR": "/r"},
			Paths{Data: "/d", Logs: "/d/logs", Run: "/d/run"}, false},
		{"XDG dirs",
			map[string]string{"HOME": "/h", "XDG_DATA_HOME": "/xd", "XDG_STATE_HOME": "/xs", "XDG_RUNTIME_DIR": "/run/user/1"},
			Paths{Data: "/xd/devport", Logs: "/xs/devport/logs", Run: "/run/user/1/devport"}, false},
		{"HOME defaults",
			map[string]string{"HOME": "/h"},
			Paths{Data: "/h/.local/share/devport", Logs: "/h/.local/state/devport/logs", Run: "/h/.local/share/devport/run"}, false},
		{"relative XDG values are ignored, as the spec says",
			map[string]string{"HOME": "/h", "XDG_DATA_HOME": "rel"},
			Paths{Data: "/h/.local/share/devport", Logs: "/h/.local/state/devport/logs", Run: "/h/.local/share/devport/run"}, false},
		{"nothing set", map[string]string{}, Paths{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ResolvePaths(func(k string) string { return tc.env[k] })
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestNameFromFolder(t *testing.T) {
	tests := []struct{ dir, want string }{
		{"/home/me/shop", "shop"},
		{"/home/me/My Shop_v2", "my-shop-v2"},
		{"/home/me/--x--", "x"},
		{"/home/me/日本", "site"},
		{"/home/me/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
	}
	for _, tc := range tests {
		t.Run(tc.dir, func(t *testing.T) {
			if got := nameFromFolder(tc.dir); got != tc.want {
				t.Errorf("nameFromFolder(%q) = %q, want %q", tc.dir, got, tc.want)
			}
		})
	}
}
