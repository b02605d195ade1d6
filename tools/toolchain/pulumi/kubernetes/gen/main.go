// Build-time generator: what the upstream cmd/pulumi-resource-kubernetes/generate.go does. Reads
// the provider's committed schema.json and terraform-mapping.json from SRC, sets the release's
// version in the schema and writes the compact *-embed.json files that main.go embeds into DST.
// Usage: go run ./gen SRC DST VERSION
package main

import (
	"bytes"
	"encoding/json"
	"log"
	"os"
	"path/filepath"
)

func main() {
	if len(os.Args) != 4 {
		log.Fatal("usage: gen SRC DST VERSION")
	}
	src, dst, version := os.Args[1], os.Args[2], os.Args[3]

	var schema map[string]json.RawMessage
	if err := json.Unmarshal(read(src, "schema.json"), &schema); err != nil {
		log.Fatalf("schema.json: %v", err)
	}
	v, err := json.Marshal(version)
	if err != nil {
		log.Fatal(err)
	}
	schema["version"] = v
	out, err := json.Marshal(schema)
	if err != nil {
		log.Fatal(err)
	}
	write(dst, "schema-embed.json", out)

	var mapping bytes.Buffer
	if err := json.Compact(&mapping, read(src, "terraform-mapping.json")); err != nil {
		log.Fatalf("terraform-mapping.json: %v", err)
	}
	write(dst, "terraform-mapping-embed.json", mapping.Bytes())
}

func read(dir, name string) []byte {
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		log.Fatal(err)
	}
	return data
}

func write(dir, name string, data []byte) {
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
		log.Fatal(err)
	}
}
