package store

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"
)

func TestBackendGroups(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, Options{Path: filepath.Join(t.TempDir(), "devport.db"), TLDs: []string{"test"}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	steps := []struct {
		name string
		do   func() error
		want []BackendGroup
	}{
		{"empty", func() error { return nil }, nil},
		{"record two", func() error {
			if err := db.SetBackendGroup(ctx, BackendGroup{"shop", "web", `{"pgid":10}`}); err != nil {
				return err
			}
			return db.SetBackendGroup(ctx, BackendGroup{"blog", "web", `{"pgid":20}`})
		}, []BackendGroup{{"blog", "web", `{"pgid":20}`}, {"shop", "web", `{"pgid":10}`}}},
		{"a restart replaces", func() error { return db.SetBackendGroup(ctx, BackendGroup{"shop", "web", `{"pgid":11}`}) },
			[]BackendGroup{{"blog", "web", `{"pgid":20}`}, {"shop", "web", `{"pgid":11}`}}},
		{"a stop forgets its project's", func() error { return db.DeleteBackendGroups(ctx, "shop") },
			[]BackendGroup{{"blog", "web", `{"pgid":20}`}}},
		{"all", func() error { return db.DeleteBackendGroups(ctx, "") }, nil},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if err := st.do(); err != nil {
				t.Fatal(err)
			}
			got, err := db.BackendGroups(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, st.want) {
				t.Errorf("groups = %v, want %v", got, st.want)
			}
		})
	}
}
