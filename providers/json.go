package providers

import "github.com/authgate/authgate/internal/strictjson"

// parseObject decodes a JOSE header, claim set or key document with the
// strict decoder. The result aliases data (see internal/strictjson): every
// caller decodes into a buffer of its own that it never writes again.
func parseObject(data []byte) (map[string]any, error) {
	return strictjson.ParseObject(data)
}
