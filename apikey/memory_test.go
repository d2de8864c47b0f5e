package apikey_test

import (
	"testing"

	"github.com/authgate/authgate/apikey"
	"github.com/authgate/authgate/apikey/storetest"
)

func TestMemoryStoreConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) apikey.Store { return apikey.NewMemoryStore() })
}
