//go:build amd64 && !purego

#include "textflag.h"

// func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-24
	MOVL eaxArg+0(FP), AX
	MOVL ecxArg+4(FP), CX
	CPUID
	MOVL AX, eax+8(FP)
	MOVL BX, ebx+12(FP)
	MOVL CX, ecx+16(FP)
	MOVL DX, edx+20(FP)
	RET

// func xgetbv() (eax, edx uint32)
TEXT ·xgetbv(SB), NOSPLIT, $0-8
	MOVL $0, CX
	XGETBV
	MOVL AX, eax+0(FP)
	MOVL DX, edx+4(FP)
	RET

// hsum adds the four int64 lanes of Y register y into GPR r (clobbers X12).
#define HSUM(y, x, r) \
	VEXTRACTI128 $1, y, X12 \
	VPADDQ X12, x, x \
	VPSHUFD $0x4e, x, X12 \
	VPADDQ X12, x, x \
	VMOVQ x, r

// func dot2x2AVX2(a0, a1, b0, b1 *int32, n int) (s00, s01, s10, s11 int64)
// Each 8-element chunk: VPMULDQ multiplies the even int32 lanes (sign
// extended) into 4 int64 products; shifting each 64-bit lane right by 32
// brings the odd int32 lanes down for a second VPMULDQ. All sums are exact
// int64 additions (the caller has proved they cannot overflow).
TEXT ·dot2x2AVX2(SB), NOSPLIT, $0-72
	MOVQ a0+0(FP), SI
	MOVQ a1+8(FP), DI
	MOVQ b0+16(FP), R8
	MOVQ b1+24(FP), R9
	MOVQ n+32(FP), CX
	VPXOR Y8, Y8, Y8
	VPXOR Y9, Y9, Y9
	VPXOR Y10, Y10, Y10
	VPXOR Y11, Y11, Y11
	XORQ AX, AX
	CMPQ AX, CX
	JGE done

loop:
	VMOVDQU (SI)(AX*4), Y0
	VMOVDQU (DI)(AX*4), Y1
	VMOVDQU (R8)(AX*4), Y2
	VMOVDQU (R9)(AX*4), Y3
	VPSRLQ $32, Y0, Y4
	VPSRLQ $32, Y1, Y5
	VPSRLQ $32, Y2, Y6
	VPSRLQ $32, Y3, Y7
	VPMULDQ Y2, Y0, Y12
	VPMULDQ Y6, Y4, Y13
	VPADDQ Y12, Y8, Y8
	VPADDQ Y13, Y8, Y8
	VPMULDQ Y3, Y0, Y14
	VPMULDQ Y7, Y4, Y15
	VPADDQ Y14, Y9, Y9
	VPADDQ Y15, Y9, Y9
	VPMULDQ Y2, Y1, Y12
	VPMULDQ Y6, Y5, Y13
	VPADDQ Y12, Y10, Y10
	VPADDQ Y13, Y10, Y10
	VPMULDQ Y3, Y1, Y14
	VPMULDQ Y7, Y5, Y15
	VPADDQ Y14, Y11, Y11
	VPADDQ Y15, Y11, Y11
	ADDQ $8, AX
	CMPQ AX, CX
	JLT loop

done:
	HSUM(Y8, X8, AX)
	MOVQ AX, s00+40(FP)
	HSUM(Y9, X9, AX)
	MOVQ AX, s01+48(FP)
	HSUM(Y10, X10, AX)
	MOVQ AX, s10+56(FP)
	HSUM(Y11, X11, AX)
	MOVQ AX, s11+64(FP)
	VZEROUPPER
	RET

// func maxAbsAVX2(v *int32, n int) uint32
// VPABSD maps -2^31 to 0x80000000, which VPMAXUD compares as 2^31: correct.
TEXT ·maxAbsAVX2(SB), NOSPLIT, $0-20
	MOVQ v+0(FP), SI
	MOVQ n+8(FP), CX
	VPXOR Y0, Y0, Y0
	XORQ AX, AX
	CMPQ AX, CX
	JGE mdone

mloop:
	VMOVDQU (SI)(AX*4), Y1
	VPABSD Y1, Y1
	VPMAXUD Y1, Y0, Y0
	ADDQ $8, AX
	CMPQ AX, CX
	JLT mloop

mdone:
	VEXTRACTI128 $1, Y0, X1
	VPMAXUD X1, X0, X0
	VPSHUFD $0x4e, X0, X1
	VPMAXUD X1, X0, X0
	VPSHUFD $0xb1, X0, X1
	VPMAXUD X1, X0, X0
	VMOVD X0, AX
	MOVL AX, ret+16(FP)
	VZEROUPPER
	RET
