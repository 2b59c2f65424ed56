package store

import (
	"context"
	"errors"
	"slices"
	"testing"
)

// TestRenameProject renames a project as devport rename does, and refuses
// what AddProject would refuse, leaving the database as it was.
func TestRenameProject(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	shop := phpProject("shop", "shop.test", "www.shop.test")
	shop.Root = "/srv/shop"
	mustAdd(t, db, shop)
	mustAdd(t, db, phpProject("blog", "blog.test"))
	if _, err := db.AddRoute(ctx, Route{Project: "shop", PathPrefix: "/assets", Kind: RouteStatic, Target: "/srv/shop/assets"}); err != nil {
		t.Fatal(err)
	}

	t.Run("name and primary domain", func(t *testing.T) {
		got, err := db.RenameProject(ctx, "shop", "store", "Store.test")
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != "store" || !slices.Equal(got.Domains, []string{"store.test", "www.shop.test"}) || got.Root != "/srv/shop" || len(got.Services) != 1 {
			t.Errorf("renamed project = %+v", got)
		}
		if _, err := db.Project(ctx, "shop"); !errors.Is(err, ErrNotFound) {
			t.Errorf("the old name still answers: %v", err)
		}
		if rs, err := db.Routes(ctx, "store"); err != nil || len(rs) != 1 {
			t.Errorf("routes after rename: %v, %v", rs, err)
		}
	})
	t.Run("the same name, another domain", func(t *testing.T) {
		if got, err := db.RenameProject(ctx, "store", "store", "shop.test"); err != nil || got.Domains[0] != "shop.test" {
			t.Errorf("RenameProject = %+v, %v", got, err)
		}
	})
	for _, tc := range []struct {
		name, to, domain, field, want string
	}{
		{"a name another project has", "blog", "other.test", "name", "already exists"},
		{"a domain another project has", "other", "blog.test", "domain", `already used by project "blog"`},
		{"a name no URL can carry", "my shop", "x.test", "name", "my-shop"},
		{"a domain outside the managed TLDs", "other", "shop.com", "domain", ".test"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := dump(t, db)
			_, err := db.RenameProject(ctx, "store", tc.to, tc.domain)
			checkValidation(t, err, tc.field, tc.want)
			if after := dump(t, db); after != before {
				t.Errorf("a refused rename changed the database:\n%s\nwas\n%s", after, before)
			}
		})
	}
	t.Run("no such project", func(t *testing.T) {
		if _, err := db.RenameProject(ctx, "nope", "x", "x.test"); !errors.Is(err, ErrNotFound) {
			t.Errorf("RenameProject(nope) = %v, want ErrNotFound", err)
		}
	})
}
