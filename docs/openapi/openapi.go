// Package openapi embeds the OpenAPI (Swagger 2) document of the Hinterland
// modules' REST routes, generated from proto/ by `make proto-gen`.
package openapi

import (
	_ "embed"
	"net/http"
)

//go:embed hinterland.swagger.json
var document []byte

// Document returns the OpenAPI document.
func Document() []byte { return document }

// Handler serves the document as JSON.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(document)
	})
}
