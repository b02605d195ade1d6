// pulumi-resource-kubernetes, built from the published provider module. The upstream main
// package embeds schema-embed.json and terraform-mapping-embed.json, which its Makefile generates
// and which are not in the module zip; build.sh copies the committed schema.json and
// terraform-mapping.json out of GOMODCACHE next to this file at build time (with the release's
// version set in the schema, as the upstream generator does) and builds this instead.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema-embed.json
var pulumiSchema []byte

//go:embed terraform-mapping-embed.json
var terraformMapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, pulumiSchema, terraformMapping)
}
