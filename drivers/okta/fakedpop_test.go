package okta_test

import (
	"crypto"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// checkDPoP verifies a DPoP proof (RFC 9449 §4.3) and Okta's nonce rule.
// It returns the key's thumbprint, or "" when there is no proof and none is
// required.
func (f *fakeOkta) checkDPoP(w http.ResponseWriter, r *http.Request) (string, bool) {
	proof := r.Header.Get("DPoP")
	f.mu.Lock()
	require, nonce := f.requireDPoP, f.nonce
	if proof != "" {
		f.proofs++
	}
	f.mu.Unlock()
	if proof == "" {
		if require {
			f.fail(w, "dpop_missing", nil)
			return "", false
		}
		return "", true
	}
	claims, jkt, err := f.verifyProof(proof, f.URL+r.URL.Path)
	if err != nil {
		f.fail(w, "dpop_invalid", map[string]string{"$DESC": err.Error()})
		return "", false
	}
	if claims.Nonce != nonce {
		w.Header().Set("DPoP-Nonce", nonce)
		f.fail(w, "use_dpop_nonce", nil)
		return "", false
	}
	w.Header().Set("DPoP-Nonce", nonce)
	return jkt, true
}

type proofClaims struct {
	JTI   string `json:"jti"`
	HTM   string `json:"htm"`
	HTU   string `json:"htu"`
	IAT   int64  `json:"iat"`
	Nonce string `json:"nonce"`
}

func (f *fakeOkta) verifyProof(proof, tokenURL string) (*proofClaims, string, error) {
	jws, err := jose.ParseSigned(proof, []jose.SignatureAlgorithm{jose.ES256, jose.ES384, jose.RS256})
	if err != nil {
		return nil, "", fmt.Errorf("DPoP proof is not a JWS: %v", err)
	}
	h := jws.Signatures[0].Protected
	if h.ExtraHeaders[jose.HeaderType] != "dpop+jwt" {
		return nil, "", fmt.Errorf("typ is %v, want dpop+jwt", h.ExtraHeaders[jose.HeaderType])
	}
	if h.JSONWebKey == nil || !h.JSONWebKey.IsPublic() {
		return nil, "", fmt.Errorf("jwk header missing or not a public key")
	}
	payload, err := jws.Verify(h.JSONWebKey)
	if err != nil {
		return nil, "", fmt.Errorf("signature: %v", err)
	}
	var c proofClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, "", fmt.Errorf("claims: %v", err)
	}
	if d := time.Since(time.Unix(c.IAT, 0)); d > time.Minute || d < -time.Minute {
		return nil, "", fmt.Errorf("iat %d is not now", c.IAT)
	}
	if c.HTM != http.MethodPost || c.HTU != tokenURL {
		return nil, "", fmt.Errorf("htm %q htu %q, want POST %s", c.HTM, c.HTU, tokenURL)
	}
	f.mu.Lock()
	replay := c.JTI == "" || f.jtis[c.JTI]
	f.jtis[c.JTI] = true
	f.mu.Unlock()
	if replay {
		return nil, "", fmt.Errorf("jti %q missing or replayed", c.JTI)
	}
	tp, err := h.JSONWebKey.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, "", err
	}
	return &c, base64.RawURLEncoding.EncodeToString(tp), nil
}
