//go:build tools

// Package tools pins the S3 server the tests talk to: versitygw, an Apache-licensed
// S3 gateway over a directory (tests/cluster/s3/build compiles it).
package tools

import (
	_ "github.com/versity/versitygw/cmd/versitygw"
)
