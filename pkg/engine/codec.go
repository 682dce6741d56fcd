package engine

import (
	"encoding/binary"
	"fmt"
)

// decoder reads little-endian fields and remembers the first short read, so
// that decoding code stays linear; finish reports it or trailing bytes.
type decoder struct {
	b   []byte
	off int
	bad bool
}

func (d *decoder) take(n int) []byte {
	if d.bad || n < 0 || len(d.b)-d.off < n {
		d.bad = true
		return nil
	}
	s := d.b[d.off : d.off+n]
	d.off += n
	return s
}

func (d *decoder) remaining() int { return len(d.b) - d.off }

func (d *decoder) u8() uint8 {
	if s := d.take(1); s != nil {
		return s[0]
	}
	return 0
}

func (d *decoder) u16() uint16 {
	if s := d.take(2); s != nil {
		return binary.LittleEndian.Uint16(s)
	}
	return 0
}

func (d *decoder) u32() uint32 {
	if s := d.take(4); s != nil {
		return binary.LittleEndian.Uint32(s)
	}
	return 0
}

func (d *decoder) u64() uint64 {
	if s := d.take(8); s != nil {
		return binary.LittleEndian.Uint64(s)
	}
	return 0
}

// i32s reads n int32 values; callers check the remaining length first so that
// a hostile header cannot make it allocate more than the input holds.
func (d *decoder) i32s(n int) []int32 {
	s := d.take(4 * n)
	if s == nil {
		return nil
	}
	v := make([]int32, n)
	for i := range v {
		v[i] = int32(binary.LittleEndian.Uint32(s[4*i:]))
	}
	return v
}

func (d *decoder) i64s(n int) []int64 {
	s := d.take(8 * n)
	if s == nil {
		return nil
	}
	v := make([]int64, n)
	for i := range v {
		v[i] = int64(binary.LittleEndian.Uint64(s[8*i:]))
	}
	return v
}

func (d *decoder) finish(what string) error {
	if d.bad {
		return fmt.Errorf("%s: truncated", what)
	}
	if n := d.remaining(); n != 0 {
		return fmt.Errorf("%s: %d trailing bytes", what, n)
	}
	return nil
}

func appendI32s(b []byte, v []int32) []byte {
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, uint32(x))
	}
	return b
}

func appendI64s(b []byte, v []int64) []byte {
	for _, x := range v {
		b = binary.LittleEndian.AppendUint64(b, uint64(x))
	}
	return b
}

// Architecture encoding (shared by models and states):
//
//	u8 kind | u8 fracBits | u8 len(hidden) | u8 reserved=0 | u32 inputs | u32 hidden[i]... | u32 outputs
func appendArch(b []byte, a Arch) []byte {
	b = append(b, byte(a.Kind), byte(a.FracBits), byte(len(a.Hidden)), 0)
	b = binary.LittleEndian.AppendUint32(b, a.Inputs)
	for _, h := range a.Hidden {
		b = binary.LittleEndian.AppendUint32(b, h)
	}
	return binary.LittleEndian.AppendUint32(b, a.Outputs)
}

func (d *decoder) arch() (Arch, error) {
	var a Arch
	a.Kind, a.FracBits = ModelKind(d.u8()), uint32(d.u8())
	nh := int(d.u8())
	if d.u8() != 0 {
		return Arch{}, fmt.Errorf("architecture: reserved byte must be zero")
	}
	if nh > MaxHidden {
		return Arch{}, fmt.Errorf("architecture: %d hidden layers, limit %d", nh, MaxHidden)
	}
	a.Inputs = d.u32()
	if nh > 0 {
		a.Hidden = make([]uint32, nh)
		for i := range a.Hidden {
			a.Hidden[i] = d.u32()
		}
	}
	a.Outputs = d.u32()
	if d.bad {
		return Arch{}, fmt.Errorf("architecture: truncated")
	}
	if err := a.Validate(); err != nil {
		return Arch{}, fmt.Errorf("architecture: %w", err)
	}
	return a, nil
}
