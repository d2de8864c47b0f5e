package sqlstore

// ListenerPID returns the server process of s's listening connection, 0
// when it has none, so that a test can cut it with pg_terminate_backend.
func ListenerPID(s *Store) uint32 {
	if s.feed == nil {
		return 0
	}
	return s.feed.pid.Load()
}
