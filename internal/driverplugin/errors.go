package driverplugin

import (
	"context"
	"errors"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/mcpauth/mcpauth/internal/driverpb"
	"github.com/mcpauth/mcpauth/provider"
)

// sentinels are the provider errors that keep their identity across the
// plugin boundary, by name.
var sentinels = map[string]error{
	"authorization_pending":  provider.ErrAuthorizationPending,
	"slow_down":              provider.ErrSlowDown,
	"expired_token":          provider.ErrExpiredToken,
	"access_denied":          provider.ErrAccessDenied,
	"invalid_grant":          provider.ErrInvalidGrant,
	"invalid_client":         provider.ErrInvalidClient,
	"insufficient_scope":     provider.ErrInsufficientScope,
	"grant_unsupported":      provider.ErrGrantUnsupported,
	"pkce_unsupported":       provider.ErrPKCEUnsupported,
	"revocation_unsupported": provider.ErrRevocationUnsupported,
	"issuer_mismatch":        provider.ErrIssuerMismatch,
	"no_token":               provider.ErrNoToken,
}

// toStatus encodes a driver error as a gRPC status carrying an ErrorDetail:
// an *OAuthError travels whole, a known sentinel by name.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	code := codes.Unknown
	switch {
	case errors.Is(err, context.Canceled):
		code = codes.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		code = codes.DeadlineExceeded
	}
	st := status.New(code, err.Error())
	detail := &pb.ErrorDetail{}
	var oe *provider.OAuthError
	if errors.As(err, &oe) {
		detail.Oauth = &pb.OAuthError{Endpoint: oe.Endpoint, Code: oe.Code, Description: oe.Description,
			Uri: oe.URI, StatusCode: int32(oe.StatusCode), IntervalNanos: int64(oe.Interval)}
	} else {
		for name, s := range sentinels {
			if errors.Is(err, s) {
				detail.Sentinel = name
				break
			}
		}
	}
	if detail.Oauth == nil && detail.Sentinel == "" {
		return st.Err()
	}
	if withDetail, derr := st.WithDetails(detail); derr == nil {
		st = withDetail
	}
	return st.Err()
}

// remoteError is an error that came from a plugin. Its message is the
// plugin's; errors.Is matches the sentinel it carried.
type remoteError struct {
	msg      string
	sentinel error
}

func (e *remoteError) Error() string { return e.msg }
func (e *remoteError) Unwrap() error { return e.sentinel }

// fromStatus decodes a plugin's error; ok is false for transport failures
// (the plugin is unreachable), which the supervisor handles.
func fromStatus(err error) (decoded error, transport bool) {
	st, ok := status.FromError(err)
	if !ok {
		return err, false
	}
	switch st.Code() {
	case codes.Unavailable:
		return err, true
	case codes.Canceled:
		return context.Canceled, false
	case codes.DeadlineExceeded:
		return context.DeadlineExceeded, false
	}
	for _, d := range st.Details() {
		detail, ok := d.(*pb.ErrorDetail)
		if !ok {
			continue
		}
		if o := detail.GetOauth(); o != nil {
			return &provider.OAuthError{Endpoint: o.GetEndpoint(), Code: o.GetCode(), Description: o.GetDescription(),
				URI: o.GetUri(), StatusCode: int(o.GetStatusCode()), Interval: time.Duration(o.GetIntervalNanos())}, false
		}
		if s, ok := sentinels[detail.GetSentinel()]; ok {
			return &remoteError{msg: st.Message(), sentinel: s}, false
		}
	}
	return &remoteError{msg: st.Message()}, false
}
