package okta

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// DPoP wire names (RFC 9449).
const (
	headerDPoP      = "DPoP"       // the proof, on the request (§4.1)
	headerDPoPNonce = "DPoP-Nonce" // a server-provided nonce, on the response (§8)
	dpopJWTType     = "dpop+jwt"   // the proof's typ header (§4.2)

	errInvalidDPoPProof = "invalid_dpop_proof" // §5: proof missing or refused
	errUseDPoPNonce     = "use_dpop_nonce"     // §8: retry with the nonce given
)

// maxDPoPAttempts bounds one token request: without a proof, with one, and
// with one carrying the server's nonce.
const maxDPoPAttempts = 3

// maxErrorPeek caps the error body read to decide on a retry.
const maxErrorPeek = 64 << 10

// dpopTransport adds DPoP proofs (RFC 9449 §4) to POST requests to the
// token endpoint, so every grant of the generic driver gets them. It keeps
// the last nonce the server sent (§8) and retries once on use_dpop_nonce.
// It starts sending proofs when configured to, or the first time the
// server answers invalid_dpop_proof to a request without one. Proofs for
// resource requests (the ath claim, §4.3) are not made here.
type dpopTransport struct {
	base   http.RoundTripper
	signer jose.Signer
	now    func() time.Time
	logger *slog.Logger

	tokenURL atomic.Pointer[string]

	mu    sync.Mutex
	on    bool
	nonce string
}

func newDPoP(key *ecdsa.PrivateKey, now func() time.Time) (*dpopTransport, error) {
	// EmbedJWK puts the public key in the jwk header (§4.2); the private
	// key never leaves the process.
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key},
		(&jose.SignerOptions{EmbedJWK: true}).WithType(dpopJWTType))
	if err != nil {
		return nil, fmt.Errorf("okta: DPoP signer: %w", err)
	}
	return &dpopTransport{signer: signer, now: now}, nil
}

func (p *dpopTransport) setTokenEndpoint(endpoint string) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return
	}
	s := htu(u)
	p.tokenURL.Store(&s)
}

func (p *dpopTransport) enabled() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.on
}

func (p *dpopTransport) state() (on bool, nonce string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.on, p.nonce
}

func (p *dpopTransport) isTokenRequest(r *http.Request) bool {
	u := p.tokenURL.Load()
	return r.Method == http.MethodPost && u != nil && htu(r.URL) == *u
}

// htu is the request URI without query and fragment (RFC 9449 §4.2).
func htu(u *url.URL) string {
	c := *u
	c.RawQuery, c.Fragment, c.RawFragment = "", "", ""
	return c.String()
}

// proof makes a DPoP proof JWT for one request (RFC 9449 §4.2).
func (p *dpopTransport) proof(method string, u *url.URL, nonce string) (string, error) {
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return "", fmt.Errorf("okta: DPoP jti: %w", err)
	}
	claims := struct {
		JTI   string `json:"jti"`
		HTM   string `json:"htm"`
		HTU   string `json:"htu"`
		IAT   int64  `json:"iat"`
		Nonce string `json:"nonce,omitempty"`
	}{base64.RawURLEncoding.EncodeToString(jti), method, htu(u), p.now().Unix(), nonce}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("okta: DPoP proof: %w", err)
	}
	jws, err := p.signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("okta: DPoP proof: %w", err)
	}
	return jws.CompactSerialize()
}

func (p *dpopTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !p.isTokenRequest(req) {
		return p.base.RoundTrip(req)
	}
	for attempt := 1; ; attempt++ {
		on, nonce := p.state()
		r := req.Clone(req.Context()) // a RoundTripper must not change the caller's request
		if attempt > 1 {
			body, err := req.GetBody()
			if err != nil {
				return nil, fmt.Errorf("okta: DPoP retry: %w", err)
			}
			r.Body = body
		}
		if on {
			proof, err := p.proof(r.Method, r.URL, nonce)
			if err != nil {
				return nil, err
			}
			r.Header.Set(headerDPoP, proof)
		}
		resp, err := p.base.RoundTrip(r)
		if err != nil {
			return nil, err
		}
		fresh := resp.Header.Get(headerDPoPNonce)
		if fresh != "" {
			p.mu.Lock()
			p.nonce = fresh
			p.mu.Unlock()
		}
		if attempt == maxDPoPAttempts || req.GetBody == nil ||
			(resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusUnauthorized) {
			return resp, nil
		}
		code, err := peekErrorCode(resp)
		if err != nil {
			return nil, err
		}
		switch {
		case code == errUseDPoPNonce && fresh != "" && (fresh != nonce || !on):
			// §8: the server wants its nonce in the proof.
		case code == errInvalidDPoPProof && !on:
			// §5: a proof is required and none was sent.
			p.logger.Info("okta: the token endpoint requires DPoP; sending proofs from now on", "token_endpoint", htu(req.URL))
		default:
			return resp, nil
		}
		p.mu.Lock()
		p.on = true
		p.mu.Unlock()
		resp.Body.Close()
	}
}

// peekErrorCode reads the "error" of a JSON error response and puts the
// body back for the caller.
func peekErrorCode(resp *http.Response) (string, error) {
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorPeek))
	resp.Body.Close()
	if err != nil {
		return "", fmt.Errorf("okta: reading token response: %w", err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	var e struct {
		Error string `json:"error"`
	}
	json.Unmarshal(body, &e)
	return e.Error, nil
}
