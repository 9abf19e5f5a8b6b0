package driverplugin

import (
	"context"
	"fmt"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/mcpauth/mcpauth/internal/driverpb"
	"github.com/mcpauth/mcpauth/provider"
)

// Server serves a driver built by a factory over the driver protocol.
type Server struct {
	pb.UnimplementedDriverServer
	factory provider.DriverFactory

	mu      sync.Mutex
	base    provider.Driver
	rebound map[string]provider.Driver // by client ID (CIMD passthrough)
}

// NewServer returns a server for drivers built by factory.
func NewServer(factory provider.DriverFactory) *Server {
	return &Server{factory: factory, rebound: map[string]provider.Driver{}}
}

var errNotConfigured = status.Error(codes.FailedPrecondition, "driverplugin: Configure has not been called")

// driver returns the configured driver, rebound to clientID if it differs.
func (s *Server) driver(clientID string) (provider.Driver, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.base == nil {
		return nil, errNotConfigured
	}
	if clientID == "" || clientID == s.base.Describe().ClientID {
		return s.base, nil
	}
	if d, ok := s.rebound[clientID]; ok {
		return d, nil
	}
	rb, ok := s.base.(provider.ClientRebinder)
	if !ok {
		return nil, toStatus(fmt.Errorf("driver %s cannot act for another client ID: %w", s.base.Describe().Name, provider.ErrGrantUnsupported))
	}
	d, err := rb.WithClientID(clientID)
	if err != nil {
		return nil, toStatus(err)
	}
	s.rebound[clientID] = d
	return d, nil
}

func rpcs(d provider.Driver) []string {
	var out []string
	if _, ok := d.(provider.DeviceAuthorizer); ok {
		out = append(out, "StartDevice", "PollDevice")
	}
	if _, ok := d.(provider.CodeExchanger); ok {
		out = append(out, "AuthCodeURL", "Exchange")
	}
	if _, ok := d.(provider.Refresher); ok {
		out = append(out, "Refresh")
	}
	if _, ok := d.(provider.Challenger); ok {
		out = append(out, "Challenge")
	}
	if _, ok := d.(provider.Identifier); ok {
		out = append(out, "Identity")
	}
	if _, ok := d.(provider.ClientRebinder); ok {
		out = append(out, "Rebind")
	}
	if _, ok := d.(provider.Revoker); ok {
		out = append(out, "Revoke") // since minor 1
	}
	return out
}

func (s *Server) Capabilities(ctx context.Context, _ *pb.CapabilitiesRequest) (*pb.CapabilitiesResponse, error) {
	resp := &pb.CapabilitiesResponse{Minor: ProtocolMinor}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.base != nil {
		resp.Rpcs = rpcs(s.base)
		resp.Description = toProtoDescription(s.base.Describe())
	}
	return resp, nil
}

func (s *Server) Configure(ctx context.Context, req *pb.ConfigureRequest) (*pb.ConfigureResponse, error) {
	cfg := provider.DriverConfig{
		Issuer:   req.GetIssuer(),
		ClientID: req.GetClientId(),
		Scopes:   req.GetScopes(),
		Options:  req.GetOptions(),
		Metadata: fromProtoMetadata(req.GetMetadata()),

		ClientSecret: req.GetClientSecret(),
		Endpoints:    fromProtoEndpoints(req.GetEndpoints()),
		ExtraParams:  req.GetExtraParams(),
	}
	d, err := s.factory(ctx, cfg)
	if err != nil {
		return nil, toStatus(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.base != nil {
		return nil, status.Error(codes.FailedPrecondition, "driverplugin: already configured")
	}
	s.base = d
	return &pb.ConfigureResponse{Description: toProtoDescription(d.Describe())}, nil
}

func (s *Server) Metadata(ctx context.Context, req *pb.MetadataRequest) (*pb.AuthServerMetadata, error) {
	d, err := s.driver(req.GetClientId())
	if err != nil {
		return nil, err
	}
	m, err := d.Metadata(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	return toProtoMetadata(m), nil
}

func unsupported(d provider.Driver, rpc string) error {
	return toStatus(fmt.Errorf("driver %s does not implement %s: %w", d.Describe().Name, rpc, provider.ErrGrantUnsupported))
}

func (s *Server) StartDevice(ctx context.Context, req *pb.StartDeviceRequest) (*pb.DeviceAuthorization, error) {
	d, err := s.driver(req.GetClientId())
	if err != nil {
		return nil, err
	}
	da, ok := d.(provider.DeviceAuthorizer)
	if !ok {
		return nil, unsupported(d, "StartDevice")
	}
	r, err := da.StartDevice(ctx, req.GetScopes())
	if err != nil {
		return nil, toStatus(err)
	}
	return toProtoDevice(r), nil
}

func (s *Server) PollDevice(ctx context.Context, req *pb.PollDeviceRequest) (*pb.Token, error) {
	d, err := s.driver(req.GetClientId())
	if err != nil {
		return nil, err
	}
	da, ok := d.(provider.DeviceAuthorizer)
	if !ok {
		return nil, unsupported(d, "PollDevice")
	}
	if req.GetAuthorization() == nil {
		return nil, status.Error(codes.InvalidArgument, "driverplugin: PollDevice without authorization")
	}
	t, err := da.PollDevice(ctx, fromProtoDevice(req.GetAuthorization()))
	if err != nil {
		return nil, toStatus(err)
	}
	return toProtoToken(t), nil
}

func (s *Server) AuthCodeURL(ctx context.Context, req *pb.AuthCodeURLRequest) (*pb.AuthCodeURLResponse, error) {
	d, err := s.driver(req.GetClientId())
	if err != nil {
		return nil, err
	}
	ce, ok := d.(provider.CodeExchanger)
	if !ok {
		return nil, unsupported(d, "AuthCodeURL")
	}
	u, err := ce.AuthCodeURL(ctx, provider.AuthCodeRequest{State: req.GetState(), CodeChallenge: req.GetCodeChallenge(),
		RedirectURI: req.GetRedirectUri(), Scopes: req.GetScopes()})
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.AuthCodeURLResponse{Url: u}, nil
}

func (s *Server) Exchange(ctx context.Context, req *pb.ExchangeRequest) (*pb.Token, error) {
	d, err := s.driver(req.GetClientId())
	if err != nil {
		return nil, err
	}
	ce, ok := d.(provider.CodeExchanger)
	if !ok {
		return nil, unsupported(d, "Exchange")
	}
	t, err := ce.Exchange(ctx, req.GetCode(), req.GetVerifier(), req.GetRedirectUri())
	if err != nil {
		return nil, toStatus(err)
	}
	return toProtoToken(t), nil
}

func (s *Server) Refresh(ctx context.Context, req *pb.RefreshRequest) (*pb.Token, error) {
	d, err := s.driver(req.GetClientId())
	if err != nil {
		return nil, err
	}
	r, ok := d.(provider.Refresher)
	if !ok {
		return nil, unsupported(d, "Refresh")
	}
	t, err := r.Refresh(ctx, fromProtoToken(req.GetToken()))
	if err != nil {
		return nil, toStatus(err)
	}
	return toProtoToken(t), nil
}

func (s *Server) Challenge(ctx context.Context, req *pb.ChallengeRequest) (*pb.ChallengeResponse, error) {
	d, err := s.driver(req.GetClientId())
	if err != nil {
		return nil, err
	}
	c, ok := d.(provider.Challenger)
	if !ok {
		return &pb.ChallengeResponse{}, nil
	}
	sc, ok := c.Challenge(provider.APIResponse{StatusCode: int(req.GetStatusCode()), Header: fromProtoHeader(req.GetHeader()), Body: req.GetBody()})
	if !ok || sc == nil {
		return &pb.ChallengeResponse{}, nil
	}
	return &pb.ChallengeResponse{Ok: true, Scopes: sc.Scopes, Permissions: sc.Permissions, Description: sc.Description}, nil
}

func (s *Server) Identity(ctx context.Context, req *pb.IdentityRequest) (*pb.IdentityResponse, error) {
	d, err := s.driver(req.GetClientId())
	if err != nil {
		return nil, err
	}
	i, ok := d.(provider.Identifier)
	if !ok {
		return nil, unsupported(d, "Identity")
	}
	id, err := i.Identity(ctx, fromProtoToken(req.GetToken()))
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.IdentityResponse{Subject: id.Subject, DisplayName: id.DisplayName}, nil
}

func (s *Server) Revoke(ctx context.Context, req *pb.RevokeRequest) (*pb.RevokeResponse, error) {
	d, err := s.driver(req.GetClientId())
	if err != nil {
		return nil, err
	}
	r, ok := d.(provider.Revoker)
	if !ok {
		return nil, toStatus(fmt.Errorf("driver %s does not implement Revoke: %w", d.Describe().Name, provider.ErrRevocationUnsupported))
	}
	if req.GetToken() == nil {
		return nil, status.Error(codes.InvalidArgument, "driverplugin: Revoke without token")
	}
	if err := r.Revoke(ctx, fromProtoToken(req.GetToken())); err != nil {
		return nil, toStatus(err)
	}
	return &pb.RevokeResponse{}, nil
}
