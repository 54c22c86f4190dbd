// Package qrpng draws a payload as the PNG QR code the test fakes serve
// (testbench/internal/fake, testbench/target/internal/webapp): EC level
// M, a 4-module quiet zone, 4 pixels a module, grey.
package qrpng

import (
	"bytes"
	"image"
	"image/png"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// Encode returns payload as a PNG QR code.
func Encode(payload string) ([]byte, error) {
	hints := map[gozxing.EncodeHintType]any{gozxing.EncodeHintType_ERROR_CORRECTION: "M", gozxing.EncodeHintType_MARGIN: 4}
	m, err := qrcode.NewQRCodeWriter().Encode(payload, gozxing.BarcodeFormat_QR_CODE, 0, 0, hints)
	if err != nil {
		return nil, err
	}
	const px = 4
	w, h := m.GetWidth(), m.GetHeight()
	img := image.NewGray(image.Rect(0, 0, w*px, h*px))
	for y := range h * px {
		for x := range w * px {
			if !m.Get(x/px, y/px) {
				img.Pix[y*img.Stride+x] = 0xff
			}
		}
	}
	var b bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed} // fakes enroll thousands of devices
	err = enc.Encode(&b, img)
	return b.Bytes(), err
}
