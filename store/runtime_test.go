package store

import (
	"context"
	"errors"
	"testing"
)

func TestSetServiceRuntime(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	p := Project{Name: "shop", Root: "/srv/shop", Domains: []string{"shop.test"},
		Services: []Service{{Name: "web", Stack: "php", Runtime: "container", Image: "php:8.3-apache"}}}
	if _, err := db.AddProject(ctx, p); err != nil {
		t.Fatal(err)
	}
	got, err := db.Project(ctx, "shop")
	if err != nil || got.Services[0].Image != "php:8.3-apache" || got.Services[0].Runtime != "container" {
		t.Fatalf("stored image: %+v %v", got.Services, err)
	}
	tests := []struct {
		name                      string
		project, service, runtime string
		image                     string
		wantErr                   error // nil: success
		wantRuntime, wantImage    string
	}{
		{"to process keeps the image", "shop", "web", "process", "php:8.3-apache", nil, "process", "php:8.3-apache"},
		{"back to container with another image", "shop", "web", "container", "mine/php:1", nil, "container", "mine/php:1"},
		{"unknown project", "ghost", "web", "process", "", ErrNotFound, "container", "mine/php:1"},
		{"unknown service", "shop", "api", "process", "", ErrNotFound, "container", "mine/php:1"},
		{"bad runtime syntax", "shop", "web", "Bad Runtime", "", &ValidationError{}, "container", "mine/php:1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := db.SetServiceRuntime(ctx, tc.project, tc.service, tc.runtime, tc.image)
			switch ve := (*ValidationError)(nil); {
			case tc.wantErr == nil && err != nil:
				t.Fatal(err)
			case tc.wantErr == ErrNotFound && !errors.Is(err, ErrNotFound):
				t.Fatalf("err = %v, want ErrNotFound", err)
			case tc.wantErr != nil && tc.wantErr != ErrNotFound && !errors.As(err, &ve):
				t.Fatalf("err = %v, want a *ValidationError", err)
			}
			s := storedProject(t, db, "shop").Services[0]
			if s.Runtime != tc.wantRuntime || s.Image != tc.wantImage {
				t.Fatalf("service now %s %q, want %s %q", s.Runtime, s.Image, tc.wantRuntime, tc.wantImage)
			}
		})
	}
}

func storedProject(t *testing.T, db *DB, name string) Project {
	t.Helper()
	p, err := db.Project(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
