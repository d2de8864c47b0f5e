// Package objectview lets authgate's providers tell whether two
// authgate.Objects are views of the same members, which Object's exported
// API deliberately cannot say. Package authgate sets Same when it is
// initialised; nothing else may set it.
package objectview

// Same reports whether a and b, both authgate.Object values, read the
// same members (the same map or the same lazily decoded object), without
// comparing contents.
var Same func(a, b any) bool
