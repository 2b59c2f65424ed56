package gui

import (
	"strings"
	"testing"
)

// TestFallbackReason: the settings explain a port fallback with the lines
// the engine printed about it, and say nothing when there was none.
func TestFallbackReason(t *testing.T) {
	tests := []struct {
		name, out string
		want      []string // in the reason; none: no reason
	}{
		{name: "no fallback", out: "devport: serving https on 127.0.0.1:443 and [::1]:443, http on port 80 redirects to https\ndevport: ready (control socket /x)\n"},
		{name: "permission", out: "devport: cannot bind 127.0.0.1:443: only root may bind ports below 1024. To use 443, run once:\n" +
			"  sudo setcap cap_net_bind_service=+ep /usr/bin/devport\n" +
			"or allow it for everyone: sudo sysctl net.ipv4.ip_unprivileged_port_start=80\n" +
			"devport: using 8443/8080 instead; URLs will show the port\n" +
			"devport: serving https on 127.0.0.1:8443 and [::1]:8443, http on port 8080 redirects to https\n",
			want: []string{"only root may bind", "setcap", "sysctl", "using 8443/8080 instead"}},
		{name: "in use", out: "devport: 127.0.0.1:443 is in use by another program (see: sudo ss -ltnp 'sport = :443'); using 8443/8080 instead\n",
			want: []string{"in use by another program"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var o OutputLog
			// Written in pieces, as a pipe would deliver it.
			for i := 0; i < len(tc.out); i += 7 {
				o.Write([]byte(tc.out[i:min(i+7, len(tc.out))]))
			}
			got := o.fallback()
			if len(tc.want) == 0 && got != "" {
				t.Fatalf("reason %q, want none", got)
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("reason %q lacks %q", got, w)
				}
			}
			select {
			case <-o.Ready():
				if !strings.Contains(tc.out, "devport: ready") {
					t.Error("ready without the ready line")
				}
			default:
				if strings.Contains(tc.out, "devport: ready") {
					t.Error("not ready after the ready line")
				}
			}
		})
	}
}
