package driverplugin

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"time"
)

// The plugin connection's mutual TLS. go-plugin's AutoMTLS does the same
// thing (an ephemeral certificate per side, each pinned by the other), but
// with P-521 keys, made at every start on both sides: ~4.5 ms of key
// generation each, and P-521 signatures in the handshake, about a fifth of
// a plugin's cold start here. The host makes both P-256 pairs instead and
// hands the plugin its own pair and the host's certificate through an
// inherited pipe (never the environment, which /proc shows more widely
// than memory). A plugin built before this reads nothing from the pipe and
// answers go-plugin's AutoMTLS, which the host still offers
// (PLUGIN_CLIENT_CERT with its certificate): go-plugin then pins the
// certificate that plugin returns.

// TLSFDEnv names the inherited file descriptor carrying the plugin's key
// pair and the host's certificate (PEM: certificate, key, host certificate).
const TLSFDEnv = "MCPAUTH_PLUGIN_TLS_FD"

// certLifetime bounds the ephemeral certificates: a plugin lives as long as
// its host, and a day is far beyond any start-up.
const certLifetime = 24 * time.Hour

// PluginTLS is the host's side of one plugin start's mutual TLS.
type PluginTLS struct {
	// Config is the host's client configuration: its certificate, and the
	// plugin's as the only root.
	Config *tls.Config
	// HostCertPEM is offered to plugins that only speak AutoMTLS.
	HostCertPEM []byte
	forPlugin   []byte
}

// NewPluginTLS makes the key pairs for one plugin start.
func NewPluginTLS() (*PluginTLS, error) {
	hostCert, hostKey, err := ephemeralCert()
	if err != nil {
		return nil, err
	}
	plugCert, plugKey, err := ephemeralCert()
	if err != nil {
		return nil, err
	}
	host, err := tls.X509KeyPair(hostCert, hostKey)
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(plugCert) {
		return nil, errors.New("driverplugin: parsing the plugin's certificate")
	}
	return &PluginTLS{
		Config: &tls.Config{
			Certificates: []tls.Certificate{host}, RootCAs: roots, ClientCAs: roots,
			ServerName: "localhost", MinVersion: tls.VersionTLS12,
		},
		HostCertPEM: hostCert,
		forPlugin:   append(append(plugCert, plugKey...), hostCert...),
	}, nil
}

// Attach passes the plugin's key pair to cmd on an inherited pipe and
// returns a function closing the host's end, to call once the plugin
// started (or failed to). Where a child inherits no descriptors beyond
// stdio (Windows), it passes nothing: the plugin then answers AutoMTLS,
// with the certificate it returns pinned by go-plugin.
func (p *PluginTLS) Attach(cmd *exec.Cmd) (func(), error) {
	if runtime.GOOS == "windows" {
		return func() {}, nil
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("driverplugin: a pipe for the plugin's key: %w", err)
	}
	// A few KiB: far below a pipe's buffer, so the write does not wait.
	_, err = w.Write(p.forPlugin)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("driverplugin: writing the plugin's key: %w", err)
	}
	cmd.ExtraFiles = append(cmd.ExtraFiles, r)
	cmd.Env = append(cmd.Env, TLSFDEnv+"="+strconv.Itoa(2+len(cmd.ExtraFiles)))
	return func() { r.Close() }, nil
}

// serverTLS is the plugin's go-plugin TLSProvider: the key pair the host
// sent on the pipe named by TLSFDEnv, requiring the host's certificate of
// its client. Without the variable it returns nil, and go-plugin falls
// back to AutoMTLS.
func serverTLS() (*tls.Config, error) {
	v := os.Getenv(TLSFDEnv)
	if v == "" {
		return nil, nil
	}
	os.Unsetenv(TLSFDEnv) // not for the driver's own children
	fd, err := strconv.Atoi(v)
	if err != nil || fd < 3 {
		return nil, fmt.Errorf("driverplugin: %s=%q is not an inherited descriptor", TLSFDEnv, v)
	}
	f := os.NewFile(uintptr(fd), "mcpauth-plugin-tls")
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("driverplugin: reading the key pair from the host: %w", err)
	}
	var blocks [][]byte
	for len(blocks) < 3 {
		var b *pem.Block
		if b, data = pem.Decode(data); b == nil {
			break
		}
		blocks = append(blocks, pem.EncodeToMemory(b))
	}
	if len(blocks) != 3 {
		return nil, errors.New("driverplugin: the host sent no key pair")
	}
	cert, err := tls.X509KeyPair(blocks[0], blocks[1])
	if err != nil {
		return nil, fmt.Errorf("driverplugin: the host's key pair: %w", err)
	}
	hosts := x509.NewCertPool()
	if !hosts.AppendCertsFromPEM(blocks[2]) {
		return nil, errors.New("driverplugin: the host's certificate does not parse")
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequireAndVerifyClientCert,
		ClientCAs: hosts, RootCAs: hosts, ServerName: "localhost", MinVersion: tls.VersionTLS12,
	}, nil
}

// ephemeralCert is a self-signed P-256 certificate for "localhost", the
// name both sides check, as go-plugin's generateCert makes with P-521.
func ephemeralCert() (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	sn, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: "localhost", Organization: []string{"mcpauth plugin"}},
		DNSNames:              []string{"localhost"},
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		BasicConstraintsValid: true, IsCA: true,
		SerialNumber: sn, NotBefore: now.Add(-30 * time.Second), NotAfter: now.Add(certLifetime),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, err
	}
	raw, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: raw}), nil
}
