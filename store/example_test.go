package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/devport/devport/store"
)

func ExampleDB_AddProject() {
	dir, err := os.MkdirTemp("", "devport-example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	ctx := context.Background()
	db, err := store.Open(ctx, store.Options{
		Path: filepath.Join(dir, "devport.db"),
		TLDs: []string{"test", "localhost"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()

	shop, err := db.AddProject(ctx, store.Project{
		Name:    "shop",
		Root:    "/home/me/shop",
		Domains: []string{"Shop.test", "shop.localhost"},
		Services: []store.Service{
			{Name: "web", Stack: "php"},
			{Name: "api", Stack: "uvicorn", App: "main:app", PathPrefix: "/api"},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(shop.Name, shop.Domains)
	for _, s := range shop.Services {
		fmt.Println(s.Name, s.Stack, s.Runtime, s.PathPrefix)
	}

	// A second project cannot take a domain that is already served.
	_, err = db.AddProject(ctx, store.Project{
		Name:     "shop2",
		Root:     "/home/me/shop2",
		Domains:  []string{"shop.test"},
		Services: []store.Service{{Name: "web", Stack: "php"}},
	})
	fmt.Println(err)

	// Output:
	// shop [shop.test shop.localhost]
	// api uvicorn process /api
	// web php process /
	// domain "shop.test": already used by project "shop"; pick another with --domain
}
