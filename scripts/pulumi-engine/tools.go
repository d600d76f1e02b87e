//go:build tools

// Keeps the CLI's main package in go.mod so `go mod tidy` resolves its whole graph.
package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
