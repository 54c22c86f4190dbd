package main

import (
	"bytes"
	"image"
	"log"
	"math"
	"math/rand"
	"os"
	"path/filepath"

	"github.com/disintegration/imaging"

	"github.com/totpemu/totpemu/scanner"
)

// photos writes phone photos of screens made from the corpus's own
// pictures by the scanner's camera: steep (tilt and pitch together),
// defocused, with moiré, a dim far corner and the phone's JPEG; one at a
// phone's resolution. Their module size and quiet zone are not listed
// (the perspective makes both vary across the code).
func (g *gen) photos() {
	for _, p := range []struct {
		file, from  string
		text        string
		version     int
		ec          string
		tilt, pitch float64
		seed        int64
		enlarge     int
	}{
		{"photo-console-light-tilt35-pitch15.jpg", "console-1280x720-light-full.png", uriConsole, 7, "M", 35, 15, 11, 1},
		{"photo-bare-H-tilt-30-pitch-20.jpg", "bare-H-5px.png", uriBob, 12, "H", -30, -20, 12, 1},
		{"photo-console-dark-tilt25-3x.jpg", "console-1280x720-dark-full.png", uriConsole, 7, "M", 25, -10, 13, 3},
	} {
		data, err := os.ReadFile(filepath.Join(g.dir, p.from))
		if err != nil {
			log.Fatal(err)
		}
		src, _, err := image.Decode(bytes.NewReader(data))
		if err != nil {
			log.Fatal(err)
		}
		cam, err := scanner.CameraByName("photo-of-screen")
		if err != nil {
			log.Fatal(err)
		}
		cam.TiltDeg, cam.PitchDeg, cam.Seed = p.tilt, p.pitch, p.seed
		img := cam.Apply(src)
		if p.enlarge > 1 {
			b := img.Bounds()
			big := imaging.Resize(img, p.enlarge*b.Dx(), p.enlarge*b.Dy(), imaging.Lanczos)
			img = withNoise(big, 5, p.seed)
		}
		e := Entry{File: p.file, Texts: []string{p.text}, Version: p.version, ECLevel: p.ec,
			Note: "a phone photo of a screen: scanner.Camera photo-of-screen from " + p.from}
		if p.enlarge > 1 {
			e.Note += ", enlarged to a phone's resolution with fresh sensor noise"
		}
		g.add(e, encJPEG(img, 90))
	}
}

// withNoise is img in grey with seeded Gaussian noise of sigma levels.
func withNoise(img image.Image, sigma float64, seed int64) *image.Gray {
	out := toGray(img)
	rng := rand.New(rand.NewSource(seed))
	for i, v := range out.Pix {
		out.Pix[i] = uint8(math.Max(0, math.Min(255, math.Round(float64(v)+rng.NormFloat64()*sigma))))
	}
	return out
}
