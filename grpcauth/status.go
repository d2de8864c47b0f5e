package grpcauth

import (
	"net/http"
	"strconv"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/authgate/authgate"
)

// ErrorDomain is the Domain of the errdetails.ErrorInfo that [Status]
// attaches.
const ErrorDomain = "authgate"

// ChallengeKey is the trailer key that carries the WWW-Authenticate
// challenge of a refused call ([authgate.Challenge]).
const ChallengeKey = "www-authenticate"

// Code maps an authentication error to its gRPC code, the counterpart of
// the HTTP status [authgate.StatusCode] gives: nil → OK, no or unrecognized
// or invalid credentials (401) → Unauthenticated, ErrForbidden (403) →
// PermissionDenied, ErrMalformedRequest (400) → InvalidArgument,
// ErrRateLimited (429) → ResourceExhausted, ErrUnavailable (503) →
// Unavailable. An error that carries no authgate sentinel is a rejection
// (Unauthenticated): fail closed.
func Code(err error) codes.Code {
	switch authgate.StatusCode(err) {
	case http.StatusOK:
		return codes.OK
	case http.StatusForbidden:
		return codes.PermissionDenied
	case http.StatusBadRequest:
		return codes.InvalidArgument
	case http.StatusTooManyRequests:
		return codes.ResourceExhausted
	case http.StatusServiceUnavailable:
		return codes.Unavailable
	}
	return codes.Unauthenticated
}

// Status returns the gRPC status a call refused with err ends with: the
// code of [Code], the message [authgate.Detail] ("Token has expired",
// "Insufficient permissions", …) and, as details, an errdetails.ErrorInfo
// of Domain [ErrorDomain] whose Metadata holds the two members of the JSON
// body the HTTP adapters send ([authgate.ErrorBody]: "detail" and "error",
// such as "invalid_token" or "not_authenticated") and whose Reason is that
// error code in upper case ("INVALID_TOKEN"); for Unavailable and
// ResourceExhausted also an errdetails.RetryInfo with the delay the HTTP
// Retry-After gives. Nothing in it comes from the request. Status(nil) is
// the OK status.
func Status(err error) *status.Status {
	code := Code(err)
	if code == codes.OK {
		return status.New(codes.OK, "")
	}
	body := Body(err)
	st := status.New(code, body.Detail)
	details := []protoadapt.MessageV1{&errdetails.ErrorInfo{
		Reason:   upperReason(body.Error),
		Domain:   ErrorDomain,
		Metadata: map[string]string{"detail": body.Detail, "error": body.Error},
	}}
	if d, ok := retryAfter(code); ok {
		details = append(details, &errdetails.RetryInfo{RetryDelay: durationpb.New(d)})
	}
	withDetails, derr := st.WithDetails(details...)
	if derr != nil {
		return st
	}
	return withDetails
}

// Body returns the client-safe body of a refusal, the one the HTTP adapters
// encode as JSON: Detail is [authgate.Detail] and Error the error code
// ([authgate.ErrorCode], or "not_authenticated", "rate_limited" or
// "temporarily_unavailable" where RFC 6750 defines none). Body(nil) is
// empty.
func Body(err error) authgate.ErrorBody {
	if err == nil {
		return authgate.ErrorBody{}
	}
	code := authgate.ErrorCode(err)
	if code == "" {
		switch authgate.StatusCode(err) {
		case http.StatusUnauthorized:
			code = "not_authenticated"
		case http.StatusServiceUnavailable:
			code = "temporarily_unavailable"
		case http.StatusTooManyRequests:
			code = "rate_limited"
		}
	}
	return authgate.ErrorBody{Detail: authgate.Detail(err), Error: code}
}

// Trailer returns the trailer metadata of a call refused with err: the
// challenge of [authgate.Challenge] under [ChallengeKey] when one belongs
// (Unauthenticated, PermissionDenied, InvalidArgument), and nil otherwise.
// realm is the challenge's realm.
func Trailer(err error, realm string) metadata.MD {
	ch := authgate.Challenge(err, realm)
	if ch == "" {
		return nil
	}
	return metadata.MD{ChallengeKey: []string{ch}}
}

// retryAfter is the delay the HTTP adapters send in Retry-After for the
// same outcome.
func retryAfter(code codes.Code) (time.Duration, bool) {
	var s string
	switch code {
	case codes.Unavailable:
		s = authgate.RetryAfterSeconds
	case codes.ResourceExhausted:
		s = authgate.RateLimitRetryAfterSeconds
	default:
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}

// upperReason turns an error code into ErrorInfo's UPPER_SNAKE_CASE,
// dropping anything else.
func upperReason(code string) string {
	b := make([]byte, 0, len(code))
	for i := 0; i < len(code); i++ {
		switch c := code[i]; {
		case 'a' <= c && c <= 'z':
			b = append(b, c-'a'+'A')
		case 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_':
			b = append(b, c)
		}
	}
	if len(b) == 0 {
		return "UNAUTHENTICATED"
	}
	return string(b)
}
