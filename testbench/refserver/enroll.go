package refserver

import (
	"bytes"
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/url"
	"strconv"
	"strings"

	"github.com/boombuler/barcode/qr"
)

// QR rendering: a 4-module quiet zone (ISO/IEC 18004) and modules of at
// least minModulePixels, the image about qrTargetPixels wide.
const (
	quietModules    = 4
	minModulePixels = 6
	qrTargetPixels  = 330
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// enrollment is a new device with what a user is shown to enroll it.
type enrollment struct {
	dev      *device
	qrBase64 string // base64 PNG of the otpauth URI
}

// enroll creates an unbound device for account with a fresh random secret.
func (s *Server) enroll(account string) (*enrollment, error) {
	raw := make([]byte, s.opts.SecretBytes)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("new secret: %w", err)
	}
	secret := secretKey(b32.EncodeToString(raw))
	draw := qrPNG
	if s.opts.QREncoder != nil {
		draw = s.opts.QREncoder
	}
	pngBytes, err := draw(s.otpauthURI(account, secret))
	if err != nil {
		return nil, err
	}
	d, err := s.store.add(account, secret)
	if err != nil {
		return nil, err
	}
	return &enrollment{dev: d, qrBase64: base64.StdEncoding.EncodeToString(pngBytes)}, nil
}

// otpauthURI is the Key Uri Format payload for account:
// otpauth://totp/ISSUER:ACCOUNT?secret=...&issuer=...&algorithm=...&digits=...&period=...
func (s *Server) otpauthURI(account string, secret secretKey) string {
	q := func(v string) string { return strings.ReplaceAll(url.QueryEscape(v), "+", "%20") }
	return "otpauth://totp/" + url.PathEscape(s.opts.Issuer) + ":" + url.PathEscape(account) +
		"?secret=" + string(secret) +
		"&issuer=" + q(s.opts.Issuer) +
		"&algorithm=" + s.opts.Algorithm +
		"&digits=" + strconv.Itoa(s.opts.Digits) +
		"&period=" + strconv.Itoa(s.opts.Period)
}

// qrPNG encodes payload as a QR code (error correction M) in a PNG with a
// quiet zone.
func qrPNG(payload string) ([]byte, error) {
	code, err := qr.Encode(payload, qr.M, qr.Auto)
	if err != nil {
		return nil, fmt.Errorf("qr encode (%d bytes): %w", len(payload), err)
	}
	n := code.Bounds().Dx()
	total := n + 2*quietModules
	px := max(minModulePixels, qrTargetPixels/total)
	img := image.NewGray(image.Rect(0, 0, total*px, total*px))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	b := code.Bounds()
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			if color.GrayModel.Convert(code.At(b.Min.X+x, b.Min.Y+y)).(color.Gray).Y >= 0x80 {
				continue // a light module
			}
			x0, y0 := (x+quietModules)*px, (y+quietModules)*px
			for yy := y0; yy < y0+px; yy++ {
				row := img.Pix[yy*img.Stride:]
				for xx := x0; xx < x0+px; xx++ {
					row[xx] = 0
				}
			}
		}
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed} // a two-tone image: speed costs little size
	if err := enc.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("qr png: %w", err)
	}
	return buf.Bytes(), nil
}
