package iam

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"sync"
)

// A minimal QR code encoder (ISO/IEC 18004) for the otpauth:// URI of a
// virtual MFA device: byte mode, error correction level M, versions 1–10
// (up to 213 bytes), mask pattern 0 (any mask is valid; the choice only
// affects how easy the symbol is to scan, and authenticator apps read this
// one fine at the scale used).

// qrBlocks is, per version, the error correction codewords per block and
// the data codewords of each block, at level M.
var qrBlocks = [11]struct {
	ec   int
	data []int
}{
	1: {10, []int{16}}, 2: {16, []int{28}}, 3: {26, []int{44}}, 4: {18, []int{32, 32}},
	5: {24, []int{43, 43}}, 6: {16, []int{27, 27, 27, 27}}, 7: {18, []int{31, 31, 31, 31}},
	8: {22, []int{38, 38, 39, 39}}, 9: {22, []int{36, 36, 36, 37, 37}}, 10: {26, []int{43, 43, 43, 43, 44}},
}

// qrAlign is the alignment pattern centre coordinates per version.
var qrAlign = [11][]int{2: {6, 18}, 3: {6, 22}, 4: {6, 26}, 5: {6, 30}, 6: {6, 34},
	7: {6, 22, 38}, 8: {6, 24, 42}, 9: {6, 26, 46}, 10: {6, 28, 50}}

var errQRTooLong = errors.New("qr: data too long for version 10-M")

// qrSymbol is a QR code's modules; dark[y][x] is true for a dark module.
type qrSymbol struct {
	version int
	size    int
	dark    [][]bool
	fn      [][]bool // function modules (not data)
}

func qrDataCapacity(v int) int {
	n := 0
	for _, d := range qrBlocks[v].data {
		n += d
	}
	return n
}

// qrEncode encodes data in the smallest version that holds it.
func qrEncode(data []byte) (*qrSymbol, error) {
	v := 1
	for ; v <= 10; v++ {
		cc := 8
		if v >= 10 {
			cc = 16
		}
		if 4+cc+8*len(data) <= 8*qrDataCapacity(v) {
			break
		}
	}
	if v > 10 {
		return nil, errQRTooLong
	}
	// Bit stream: mode 0100 (byte), count, data, terminator, padding.
	var bits []bool
	put := func(val, n int) {
		for i := n - 1; i >= 0; i-- {
			bits = append(bits, val>>i&1 == 1)
		}
	}
	put(4, 4)
	if v >= 10 {
		put(len(data), 16)
	} else {
		put(len(data), 8)
	}
	for _, b := range data {
		put(int(b), 8)
	}
	capBits := 8 * qrDataCapacity(v)
	put(0, min(4, capBits-len(bits)))
	for len(bits)%8 != 0 {
		bits = append(bits, false)
	}
	codewords := make([]byte, 0, capBits/8)
	for i := 0; i < len(bits); i += 8 {
		var b byte
		for j := range 8 {
			if bits[i+j] {
				b |= 0x80 >> j
			}
		}
		codewords = append(codewords, b)
	}
	for pad := byte(0xEC); len(codewords) < capBits/8; pad ^= 0xEC ^ 0x11 {
		codewords = append(codewords, pad)
	}
	all := qrInterleave(v, codewords)
	s := newQRSymbol(v)
	s.placeData(all)
	s.applyMask()
	s.drawFormat(0)
	return s, nil
}

// qrInterleave splits data codewords into blocks, adds each block's
// Reed–Solomon codewords and interleaves them.
func qrInterleave(v int, data []byte) []byte {
	bl := qrBlocks[v]
	div := rsDivisor(bl.ec)
	var blocks, ecs [][]byte
	off := 0
	for _, n := range bl.data {
		b := data[off : off+n]
		off += n
		blocks = append(blocks, b)
		ecs = append(ecs, rsRemainder(b, div))
	}
	var out []byte
	for i := 0; i < bl.data[len(bl.data)-1]; i++ {
		for _, b := range blocks {
			if i < len(b) {
				out = append(out, b[i])
			}
		}
	}
	for i := range bl.ec {
		for _, e := range ecs {
			out = append(out, e[i])
		}
	}
	return out
}

// gfMul multiplies in GF(2^8) modulo x^8+x^4+x^3+x^2+1.
func gfMul(x, y byte) byte {
	var z int
	for i := 7; i >= 0; i-- {
		z = z<<1 ^ (z>>7)*0x11D
		z ^= int(y>>i&1) * int(x)
	}
	return byte(z)
}

// rsDivisor is the Reed–Solomon generator polynomial of the given degree
// (coefficients from the highest power, the leading 1 omitted).
func rsDivisor(degree int) []byte {
	d := make([]byte, degree)
	d[degree-1] = 1
	root := byte(1)
	for range degree {
		for j := range d {
			d[j] = gfMul(d[j], root)
			if j+1 < len(d) {
				d[j] ^= d[j+1]
			}
		}
		root = gfMul(root, 2)
	}
	return d
}

func rsRemainder(data, div []byte) []byte {
	r := make([]byte, len(div))
	for _, b := range data {
		f := b ^ r[0]
		copy(r, r[1:])
		r[len(r)-1] = 0
		for i := range r {
			r[i] ^= gfMul(div[i], f)
		}
	}
	return r
}

// newQRSymbol draws the function patterns of a version.
func newQRSymbol(v int) *qrSymbol {
	size := 17 + 4*v
	s := &qrSymbol{version: v, size: size, dark: make([][]bool, size), fn: make([][]bool, size)}
	for i := range size {
		s.dark[i], s.fn[i] = make([]bool, size), make([]bool, size)
	}
	set := func(x, y int, dark bool) { s.dark[y][x], s.fn[y][x] = dark, true }
	for i := range size { // timing patterns
		set(6, i, i%2 == 0)
		set(i, 6, i%2 == 0)
	}
	finder := func(cx, cy int) {
		for dy := -4; dy <= 4; dy++ {
			for dx := -4; dx <= 4; dx++ {
				x, y := cx+dx, cy+dy
				if x < 0 || y < 0 || x >= size || y >= size {
					continue
				}
				d := max(abs(dx), abs(dy))
				set(x, y, d != 2 && d != 4)
			}
		}
	}
	finder(3, 3)
	finder(size-4, 3)
	finder(3, size-4)
	al := qrAlign[v]
	for i, cy := range al {
		for j, cx := range al {
			if i == 0 && j == 0 || i == 0 && j == len(al)-1 || i == len(al)-1 && j == 0 {
				continue // under a finder pattern
			}
			for dy := -2; dy <= 2; dy++ {
				for dx := -2; dx <= 2; dx++ {
					set(cx+dx, cy+dy, max(abs(dx), abs(dy)) != 1)
				}
			}
		}
	}
	s.drawFormat(0) // reserves the format areas (redrawn after masking)
	if v >= 7 {
		rem := v
		for range 12 {
			rem = rem<<1 ^ (rem>>11)*0x1F25
		}
		bits := v<<12 | rem
		for i := range 18 {
			d := bits>>i&1 == 1
			a, b := size-11+i%3, i/3
			set(a, b, d)
			set(b, a, d)
		}
	}
	return s
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// qrFormatBits are the 15 format bits for level M and a mask.
func qrFormatBits(mask int) int {
	data := 0<<3 | mask // level M is 00
	rem := data
	for range 10 {
		rem = rem<<1 ^ (rem>>9)*0x537
	}
	return (data<<10 | rem) ^ 0x5412
}

// drawFormat draws both copies of the format information and the dark module.
func (s *qrSymbol) drawFormat(mask int) {
	bits := qrFormatBits(mask)
	bit := func(i int) bool { return bits>>i&1 == 1 }
	set := func(x, y int, dark bool) { s.dark[y][x], s.fn[y][x] = dark, true }
	for i := range 6 {
		set(8, i, bit(i))
	}
	set(8, 7, bit(6))
	set(8, 8, bit(7))
	set(7, 8, bit(8))
	for i := 9; i < 15; i++ {
		set(14-i, 8, bit(i))
	}
	for i := range 8 {
		set(s.size-1-i, 8, bit(i))
	}
	for i := 8; i < 15; i++ {
		set(8, s.size-15+i, bit(i))
	}
	set(8, s.size-8, true)
}

// zigzag calls f for each data module in placement order.
func (s *qrSymbol) zigzag(f func(x, y int) bool) {
	for right := s.size - 1; right >= 1; right -= 2 {
		if right == 6 {
			right = 5
		}
		for vert := range s.size {
			for j := range 2 {
				x := right - j
				y := vert
				if (right+1)&2 == 0 {
					y = s.size - 1 - vert
				}
				if !s.fn[y][x] && !f(x, y) {
					return
				}
			}
		}
	}
}

func (s *qrSymbol) placeData(cw []byte) {
	i := 0
	s.zigzag(func(x, y int) bool {
		if i < len(cw)*8 {
			s.dark[y][x] = cw[i>>3]>>(7-i&7)&1 == 1
			i++
		}
		return true
	})
}

// applyMask applies mask pattern 0: (x+y) mod 2 == 0.
func (s *qrSymbol) applyMask() {
	for y := range s.size {
		for x := range s.size {
			if !s.fn[y][x] && (x+y)%2 == 0 {
				s.dark[y][x] = !s.dark[y][x]
			}
		}
	}
}

// qrPNGEncoder reuses its compressor across images.
var qrPNGEncoder = &png.Encoder{CompressionLevel: png.BestSpeed, BufferPool: &pngPool{}}

type pngPool struct{ p sync.Pool }

func (p *pngPool) Get() *png.EncoderBuffer {
	b, _ := p.p.Get().(*png.EncoderBuffer)
	return b
}

func (p *pngPool) Put(b *png.EncoderBuffer) { p.p.Put(b) }

// qrPNG renders data as a QR code PNG: scale pixels per module and the
// four-module quiet zone the standard asks for.
func qrPNG(data []byte, scale int) ([]byte, error) {
	s, err := qrEncode(data)
	if err != nil {
		return nil, err
	}
	const quiet = 4
	n := (s.size + 2*quiet) * scale
	// Two colours: the encoder writes one bit per pixel.
	img := image.NewPaletted(image.Rect(0, 0, n, n), color.Palette{color.Gray{Y: 0xFF}, color.Gray{}})
	for y := range s.size {
		for x := range s.size {
			if !s.dark[y][x] {
				continue
			}
			for dy := range scale {
				row := img.Pix[((y+quiet)*scale+dy)*img.Stride:]
				for dx := range scale {
					row[(x+quiet)*scale+dx] = 1
				}
			}
		}
	}
	var buf bytes.Buffer
	if err := qrPNGEncoder.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
