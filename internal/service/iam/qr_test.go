package iam

import (
	"bytes"
	"image/png"
	"strings"
	"testing"
)

// qrRead decodes a QR code PNG made by qrPNG: it finds the module size from
// the top-left finder pattern, reads the format information, unmasks, reads
// the codewords in placement order, de-interleaves them, checks every
// block's Reed–Solomon codewords and parses the byte-mode segment.
func qrRead(t *testing.T, pngData []byte) string {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(pngData))
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	darkAt := func(x, y int) bool { r, _, _, _ := img.At(x, y).RGBA(); return r < 0x8000 }
	// The first dark pixel is the finder's corner; its run is 7 modules.
	x0, y0 := -1, -1
	for y := 0; y < b.Dy() && x0 < 0; y++ {
		for x := 0; x < b.Dx(); x++ {
			if darkAt(x, y) {
				x0, y0 = x, y
				break
			}
		}
	}
	run := 0
	for darkAt(x0+run, y0) {
		run++
	}
	scale := run / 7
	size := b.Dx()/scale - 2*x0/scale
	v := (size - 17) / 4
	if v < 1 || v > 10 || 17+4*v != size {
		t.Fatalf("size %d is no version", size)
	}
	mod := func(x, y int) bool { return darkAt(x0+x*scale+scale/2, y0+y*scale+scale/2) }
	// Format information, first copy.
	f := 0
	for i := 0; i < 6; i++ {
		if mod(8, i) {
			f |= 1 << i
		}
	}
	for i, p := range [][2]int{{8, 7}, {8, 8}, {7, 8}} {
		if mod(p[0], p[1]) {
			f |= 1 << (6 + i)
		}
	}
	for i := 9; i < 15; i++ {
		if mod(14-i, 8) {
			f |= 1 << i
		}
	}
	mask := -1
	for m := 0; m < 8; m++ {
		if qrFormatBits(m) == f {
			mask = m
		}
	}
	if mask != 0 {
		t.Fatalf("format bits %015b: not level M with a known mask", f)
	}
	ref := newQRSymbol(v) // the function modules of this version
	var bits []bool
	ref.zigzag(func(x, y int) bool {
		d := mod(x, y)
		if (x+y)%2 == 0 {
			d = !d
		}
		bits = append(bits, d)
		return true
	})
	var cw []byte
	for i := 0; i+8 <= len(bits); i += 8 {
		var c byte
		for j := 0; j < 8; j++ {
			if bits[i+j] {
				c |= 0x80 >> j
			}
		}
		cw = append(cw, c)
	}
	bl := qrBlocks[v]
	blocks := make([][]byte, len(bl.data))
	k := 0
	for i := 0; i < bl.data[len(bl.data)-1]; i++ {
		for j, n := range bl.data {
			if i < n {
				blocks[j] = append(blocks[j], cw[k])
				k++
			}
		}
	}
	ecs := make([][]byte, len(bl.data))
	for i := 0; i < bl.ec; i++ {
		for j := range bl.data {
			ecs[j] = append(ecs[j], cw[k])
			k++
		}
	}
	var data []byte
	for j := range blocks {
		if !bytes.Equal(rsRemainder(blocks[j], rsDivisor(bl.ec)), ecs[j]) {
			t.Fatalf("block %d: Reed-Solomon codewords do not check", j)
		}
		data = append(data, blocks[j]...)
	}
	get := func(pos, n int) int {
		v := 0
		for i := 0; i < n; i++ {
			v = v<<1 | int(data[(pos+i)/8]>>(7-(pos+i)%8)&1)
		}
		return v
	}
	if get(0, 4) != 4 {
		t.Fatalf("mode %04b, want byte mode", get(0, 4))
	}
	cc := 8
	if v >= 10 {
		cc = 16
	}
	n := get(4, cc)
	out := make([]byte, n)
	for i := range out {
		out[i] = byte(get(4+cc+8*i, 8))
	}
	return string(out)
}

func TestQRRoundTrip(t *testing.T) {
	for _, s := range []string{
		"a",
		"otpauth://totp/rampart:ann-phone@000000000000?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=rampart",
		strings.Repeat("x", 100), // version 6, four blocks
		strings.Repeat("y", 150), // version 8, blocks of two lengths
		strings.Repeat("z", 213), // version 10: the 16-bit count
	} {
		p, err := qrPNG([]byte(s), 3)
		if err != nil {
			t.Fatal(err)
		}
		if got := qrRead(t, p); got != s {
			t.Fatalf("read back %q, want %q", got, s)
		}
	}
	if _, err := qrPNG([]byte(strings.Repeat("z", 214)), 3); err != errQRTooLong {
		t.Fatalf("too long: %v", err)
	}
}

// QRRead lets the service tests (package iam_test) read a QR code back.
func QRRead(t *testing.T, pngData []byte) string { return qrRead(t, pngData) }

// BenchmarkQRPNG measures encoding and rendering an otpauth URI.
func BenchmarkQRPNG(b *testing.B) {
	uri := []byte("otpauth://totp/rampart:ann-phone@000000000000?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=rampart")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := qrPNG(uri, 4); err != nil {
			b.Fatal(err)
		}
	}
}
