package main

import (
	"hash/crc32"

	"github.com/boombuler/barcode/qr"
)

func crc32IEEE(b []byte) uint32 { return crc32.ChecksumIEEE(b) }

const qrM = qr.M
