// Command swaggermerge merges the Swagger 2 documents protoc-gen-swagger writes
// for each module into one document (paths and definitions unioned), printed to
// stdout. encoding/json sorts object keys, so the output is byte-stable.
package main

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: swaggermerge DIR")
		os.Exit(2)
	}
	var files []string
	err := filepath.WalkDir(os.Args[1], func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Ext(path) == ".json" {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		fail(err)
	}
	sort.Strings(files)

	paths := map[string]json.RawMessage{}
	defs := map[string]json.RawMessage{}
	for _, f := range files {
		bz, err := os.ReadFile(f)
		if err != nil {
			fail(err)
		}
		var doc struct {
			Paths       map[string]json.RawMessage `json:"paths"`
			Definitions map[string]json.RawMessage `json:"definitions"`
		}
		if err := json.Unmarshal(bz, &doc); err != nil {
			fail(fmt.Errorf("%s: %w", f, err))
		}
		for k, v := range doc.Paths {
			paths[k] = v
		}
		for k, v := range doc.Definitions {
			defs[k] = v
		}
	}
	out := map[string]any{
		"swagger":     "2.0",
		"info":        map[string]string{"title": "Hinterland - tasks, verification and rewards REST API", "version": "v1"},
		"consumes":    []string{"application/json"},
		"produces":    []string{"application/json"},
		"paths":       paths,
		"definitions": defs,
	}
	bz, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		fail(err)
	}
	fmt.Println(string(bz))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "swaggermerge:", err)
	os.Exit(1)
}
