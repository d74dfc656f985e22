package lb

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"
)

// runner is one bound listener.
type runner interface {
	addr() net.Addr
	// shutdown stops accepting and lets what is in flight finish.
	shutdown()
	// close drops everything at once.
	close()
}

// bindKey says what a listener binds; a listener whose key changes is
// closed and opened again, otherwise only its configuration is swapped.
func bindKey(l Listener) string {
	sum := sha256.New()
	sum.Write([]byte(l.CertificatePEM + "\x00" + l.KeyPEM))
	for _, c := range l.SNICertificates {
		sum.Write([]byte("\x00" + c.CertificatePEM + "\x00" + c.KeyPEM))
	}
	h := sum.Sum(nil)
	return l.Protocol + " " + net.JoinHostPort(l.Host, strconv.Itoa(l.Port)) + " " + hex.EncodeToString(h[:8])
}

// httpListener serves an HTTP or HTTPS listener.
type httpListener struct {
	key string
	ln  net.Listener
	srv *http.Server // HTTPS
	h1  *h1Server    // HTTP
	h   *httpHandler
	b   *Balancer
}

func (b *Balancer) openHTTP(l Listener, st *httpState) (*httpListener, error) {
	var certs []tls.Certificate
	if l.Protocol == ProtocolHTTPS {
		// The default first: crypto/tls serves the first certificate
		// that covers the client's server name, else the first.
		pairs := append([]KeyPair{{CertificatePEM: l.CertificatePEM, KeyPEM: l.KeyPEM}}, l.SNICertificates...)
		for _, p := range pairs {
			cert, err := tls.X509KeyPair([]byte(p.CertificatePEM), []byte(p.KeyPEM))
			if err != nil {
				return nil, fmt.Errorf("listener %s: certificate: %w", l.ARN, err)
			}
			certs = append(certs, cert)
		}
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(l.Host, strconv.Itoa(l.Port)))
	if err != nil {
		return nil, fmt.Errorf("listener %s: %w", l.ARN, err)
	}
	h := &httpHandler{b: b}
	h.state.Store(st)
	protos := new(http.Protocols)
	protos.SetHTTP1(true)
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: time.Minute,
		IdleTimeout:       60 * time.Second,
		ErrorLog:          b.errLog,
		Protocols:         protos,
	}
	hl := &httpListener{key: bindKey(l), ln: ln, srv: srv, h: h, b: b}
	if l.Protocol == ProtocolHTTPS {
		protos.SetHTTP2(true)
		srv.TLSConfig = &tls.Config{Certificates: certs, MinVersion: tls.VersionTLS12}
		go func() { _ = srv.ServeTLS(ln, "", "") }()
	} else {
		hl.srv = nil
		hl.h1 = newH1Server(h, b.errLog, 60*time.Second)
		go hl.h1.serve(ln)
	}
	return hl, nil
}

func (l *httpListener) addr() net.Addr { return l.ln.Addr() }

func (l *httpListener) shutdown() {
	_ = l.ln.Close() // free the port now: a new listener may want it
	go func() {
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			<-l.b.done
			cancel()
		}()
		if l.h1 != nil {
			l.h1.shutdown(ctx)
		} else if l.srv.Shutdown(ctx) != nil {
			_ = l.srv.Close()
		}
		cancel()
	}()
}

func (l *httpListener) close() {
	if l.h1 != nil {
		l.h1.close()
		return
	}
	_ = l.srv.Close()
}
