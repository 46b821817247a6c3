package engine

import (
	"testing"

	"go.uber.org/goleak"
)

// The engine starts a dispatcher, shards and a merger per Run; all of them
// must be gone when Run returns.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
